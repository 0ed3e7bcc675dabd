import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  create,
  createRegistry,
  fromBinary,
  fromJson,
  ScalarType,
  toBinary,
  toJson,
} from '@bufbuild/protobuf';
import type { DescField, JsonObject } from '@bufbuild/protobuf';
import type { GenFile } from '@bufbuild/protobuf/codegenv2';
import { describe, expect, it } from 'vitest';
import {
  AccountService,
  allFileDescriptors,
  CertificateAuthorityService,
  Health,
  OnboardingService,
  ProductCertificateService,
  RegistryService,
  ServerReflection,
  SigningService,
  signingV1,
  VerificationService,
  verificationV1,
} from './index.js';

const methodNames = (service: { methods: readonly { name: string }[] }): string[] =>
  service.methods.map((method) => method.name);

describe('service descriptors', () => {
  it('carry the full service names of the contract', () => {
    expect(SigningService.typeName).toBe('c2pamesh.signing.v1.SigningService');
    expect(VerificationService.typeName).toBe('c2pamesh.verification.v1.VerificationService');
    expect(CertificateAuthorityService.typeName).toBe(
      'c2pamesh.certificateauthority.v1.CertificateAuthorityService',
    );
    expect(RegistryService.typeName).toBe('c2pamesh.registry.v1.RegistryService');
    expect(Health.typeName).toBe('grpc.health.v1.Health');
    expect(ServerReflection.typeName).toBe('grpc.reflection.v1.ServerReflection');
  });

  it('have every RPC the contract names', () => {
    expect(methodNames(SigningService)).toEqual(
      expect.arrayContaining(['Sign', 'SignStream', 'SignHash', 'ListSigners']),
    );
    expect(methodNames(VerificationService)).toEqual(
      expect.arrayContaining([
        'Verify',
        'VerifyStream',
        'VerifyByHash',
        'VerifyUrl',
        'VerifyBatch',
        'ListVerifications',
      ]),
    );
    expect(methodNames(CertificateAuthorityService)).toEqual(
      expect.arrayContaining([
        'IssueCertificate',
        'GetCertificate',
        'ListCertificates',
        'ActivateCertificate',
        'RevokeCertificate',
        'GetCertificateChain',
        'CheckStatus',
        'Timestamp',
      ]),
    );
    expect(methodNames(RegistryService)).toEqual(
      expect.arrayContaining([
        'CreateProject',
        'CreateApiKey',
        'ListApiKeys',
        'UpdateApiKey',
        'RotateApiKey',
        'RevokeApiKey',
        'CreateClientBinding',
        'GetAsset',
        'ListAssets',
        'UpdateAsset',
        'DeleteAsset',
        'LookupAssetByHash',
        'ListAuditEvents',
        'GetUsageStats',
        'CreateWebhook',
      ]),
    );
    expect(ProductCertificateService.typeName).toBe('c2pamesh.productcertificate.v1.ProductCertificateService');
    expect(methodNames(ProductCertificateService)).toEqual(
      expect.arrayContaining([
        'CreateProductCertificate',
        'GetProductCertificate',
        'ListProductCertificates',
        'UpdateProductCertificate',
        'PauseProductCertificate',
        'ResumeProductCertificate',
        'RevokeProductCertificate',
      ]),
    );
    expect(methodNames(Health)).toEqual(expect.arrayContaining(['Check', 'Watch']));
    expect(methodNames(ServerReflection)).toEqual(['ServerReflectionInfo']);
  });

  it('stream where the contract streams', () => {
    expect(SigningService.method.signStream.methodKind).toBe('bidi_streaming');
    expect(VerificationService.method.verifyStream.methodKind).toBe('client_streaming');
    expect(VerificationService.method.verifyStream.output.typeName).toBe(
      'c2pamesh.verification.v1.VerifyResponse',
    );
  });
});

describe('allFileDescriptors', () => {
  it('holds every generated file', async () => {
    const genDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'gen');
    const generated = readdirSync(genDir, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('_pb.ts'))
      .map((file) => path.join(genDir, file));
    const fileNames: string[] = [];
    for (const file of generated) {
      const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(module)) {
        if (name.startsWith('file_')) fileNames.push((value as GenFile).name);
      }
    }
    expect(fileNames.length).toBe(generated.length);
    expect(allFileDescriptors.map((file) => file.name).sort()).toEqual(fileNames.sort());
  });

  it('resolves every service for reflection', () => {
    const registry = createRegistry(...allFileDescriptors);
    for (const service of [
      SigningService,
      VerificationService,
      CertificateAuthorityService,
      RegistryService,
      ProductCertificateService,
      AccountService,
      OnboardingService,
      Health,
      ServerReflection,
    ]) {
      expect(registry.getService(service.typeName)?.methods.length).toBe(service.methods.length);
    }
  });
});

describe('JSON form', () => {
  it('round-trips a SignResponse with bytes as base64 and lowerCamelCase names', () => {
    const signedAsset = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0xfb, 0xef]);
    const response = create(signingV1.SignResponseSchema, {
      signedAsset,
      manifestStoreJson: '{"active_manifest":"urn:c2pa:1"}',
      activeManifestLabel: 'urn:c2pa:1',
      assetSha256: `sha256:${'ab'.repeat(32)}`,
      assetId: 'asset-1',
      requestId: 'req-1',
      durationMs: 42n,
      sizeBytes: BigInt(signedAsset.length),
    });

    const json = toJson(signingV1.SignResponseSchema, response) as JsonObject;
    expect(json.signedAsset).toBe(Buffer.from(signedAsset).toString('base64'));
    expect(json.activeManifestLabel).toBe('urn:c2pa:1');
    // proto3 JSON writes 64-bit integers as strings.
    expect(json.durationMs).toBe('42');

    const parsed = fromJson(signingV1.SignResponseSchema, json);
    expect(parsed.signedAsset).toEqual(signedAsset);
    expect(parsed.durationMs).toBe(42n);
    expect(parsed).toEqual(response);
  });

  it('reads the enum of VerifyResponse by its full value name', () => {
    const parsed = fromJson(verificationV1.VerifyResponseSchema, {
      validationState: 'VALIDATION_STATE_TRUSTED',
      valid: true,
      trusted: true,
      errors: [{ code: 'assertion.dataHash.mismatch', url: '', explanation: 'hash differs' }],
    });
    expect(parsed.validationState).toBe(verificationV1.ValidationState.TRUSTED);
    const binary = toBinary(verificationV1.VerifyResponseSchema, parsed);
    const again = fromBinary(verificationV1.VerifyResponseSchema, binary);
    expect(again.errors[0]?.code).toBe('assertion.dataHash.mismatch');
  });
});

// The "Fields outside checks rely on" table of the contract, as `<type> <name>` per message.
const contractFields: Record<string, string[]> = {
  'c2pamesh.signing.v1.SignRequest': [
    'bytes asset',
    'string format',
    'string manifest_json',
    'string signer_id',
  ],
  'c2pamesh.signing.v1.SignResponse': [
    'bytes signed_asset',
    'string manifest_store_json',
    'string active_manifest_label',
    'string asset_sha256',
    'string asset_id',
    'string request_id',
    'int64 duration_ms',
  ],
  'c2pamesh.signing.v1.SignHashRequest': [
    'string content_hash',
    'string headline',
    'string author',
    'string content_type',
  ],
  'c2pamesh.signing.v1.SignHashResponse': [
    'bytes signature',
    'string signed_at',
    'string asset_id',
  ],
  'c2pamesh.verification.v1.VerifyRequest': ['bytes asset', 'string format'],
  'c2pamesh.verification.v1.VerifyResponse': [
    'ValidationState validation_state',
    'bool valid',
    'bool trusted',
    'string manifest_store_json',
    'string signer',
    'string signed_at',
    'repeated ValidationStatus errors',
    'repeated ValidationStatus warnings',
    'repeated ValidationStatus successes',
    'string asset_sha256',
    'bool registered',
  ],
  'c2pamesh.verification.v1.ValidationStatus': ['string code', 'string url', 'string explanation'],
  'c2pamesh.verification.v1.VerifyByHashRequest': ['string content_hash'],
  'c2pamesh.verification.v1.VerifyByHashResponse': [
    'bool found',
    'string asset_id',
    'string signed_at',
    'string signer',
    'string certificate_status',
  ],
  'c2pamesh.signing.v1.ListSignersResponse': ['repeated Signer signers'],
  'c2pamesh.signing.v1.Signer': [
    'string id',
    'string certificate_id',
    'string algorithm',
    'string certificate_chain_pem',
    'string status',
  ],
  'c2pamesh.certificateauthority.v1.IssueCertificateRequest': [
    'string profile',
    'string common_name',
    'string organization',
    'string csr_pem',
    'string key_algorithm',
    'int32 validity_days',
    'string project_id',
  ],
  'c2pamesh.certificateauthority.v1.Certificate': [
    'string certificate_id',
    'string serial_number',
    'string certificate_pem',
    'string chain_pem',
    'string status',
    'string not_before',
    'string not_after',
  ],
  'c2pamesh.certificateauthority.v1.RevokeCertificateRequest': [
    'string certificate_id',
    'int32 reason',
  ],
  'c2pamesh.certificateauthority.v1.GetCertificateChainResponse': ['string chain_pem'],
  'c2pamesh.registry.v1.CreateApiKeyRequest': [
    'string project_id',
    'string name',
    'repeated string scopes',
    'int64 max_asset_bytes',
    'int32 requests_per_minute',
  ],
  'c2pamesh.registry.v1.CreateApiKeyResponse': ['string key', 'string key_id'],
  'c2pamesh.registry.v1.RevokeApiKeyRequest': ['string key_id', 'string reason'],
  'c2pamesh.registry.v1.CreateProjectRequest': ['string name'],
  'c2pamesh.registry.v1.CreateProjectResponse': ['string project_id'],
  'c2pamesh.registry.v1.ListAuditEventsRequest': [
    'string project_id',
    'int32 page_size',
    'string page_token',
  ],
  'c2pamesh.registry.v1.ListAuditEventsResponse': ['repeated AuditEvent events'],
  'c2pamesh.registry.v1.AuditEvent': [
    'string operation',
    'string status',
    'string request_id',
    'string project_id',
    'string format',
    'int64 size_bytes',
    'int64 duration_ms',
    'string client_ip',
    'string error',
  ],
};

describe('contract fields', () => {
  const registry = createRegistry(...allFileDescriptors);
  const describeField = (field: DescField): string => {
    const type =
      field.fieldKind === 'scalar' || (field.fieldKind === 'list' && field.listKind === 'scalar')
        ? ScalarType[field.scalar!].toLowerCase()
        : field.fieldKind === 'enum' || (field.fieldKind === 'list' && field.listKind === 'enum')
          ? field.enum!.name
          : field.message!.name;
    return `${field.fieldKind === 'list' ? 'repeated ' : ''}${type} ${field.name}`;
  };

  for (const [typeName, fields] of Object.entries(contractFields)) {
    it(`${typeName} has ${fields.length} contract fields`, () => {
      const message = registry.getMessage(typeName);
      expect(message, typeName).toBeDefined();
      const declared = message!.fields.map(describeField);
      expect(declared).toEqual(expect.arrayContaining(fields));
    });
  }
});
