import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { createClient, type Client } from '@connectrpc/connect';
import { buildCoseSign1, claimSignatureReserveSize, createEngine, type C2paEngine, type ClaimSigner } from '@c2pa-mesh/engine';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { pemToDer } from '@c2pa-mesh/pki';
import { CertificateAuthorityService } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNING_SERVICE } from './testing.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const asset = new Uint8Array(readFileSync(path.resolve(repoRoot, 'test/fixtures/media/no_manifest.jpg')));
const manifest = JSON.stringify({
  title: 'CA interop',
  claim_generator_info: [{ name: 'c2pa-mesh-ca-test', version: '1.0.0' }],
  assertions: [
    {
      label: 'c2pa.actions',
      data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia' }] },
    },
  ],
});

const COSE_ALG = { ES256: 'es256', ES384: 'es384', PS256: 'ps256', ED25519: 'ed25519' } as const;

/**
 * Certificates, signatures, time-stamp tokens and OCSP staples from this CA, judged by c2pa-rs:
 * an asset signed with each key algorithm reads back Trusted, time-stamp trusted, not revoked.
 */
describe('c2pa-rs accepts what the CA issues', () => {
  let mesh: TestMesh;
  let engine: C2paEngine;
  let admin: Client<typeof CertificateAuthorityService>;
  let service: Client<typeof CertificateAuthorityService>;

  beforeAll(async () => {
    mesh = await createTestMesh();
    engine = createEngine({ threads: 1 });
    admin = createClient(CertificateAuthorityService, mesh.transport(ADMIN_IDENTITY));
    service = createClient(CertificateAuthorityService, mesh.transport(SIGNING_SERVICE));
  });
  afterAll(async () => {
    await engine?.close();
    await mesh?.close();
  });

  /** The TSA's whole TimeStampResp, as sigTst2 carries it. */
  async function timeStampResponse(data: Uint8Array): Promise<Uint8Array> {
    const query = new pkijs.TimeStampReq({
      version: 1,
      messageImprint: new pkijs.MessageImprint({
        hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: '2.16.840.1.101.3.4.2.1' }),
        hashedMessage: new asn1js.OctetString({ valueHex: createHash('sha256').update(data).digest() }),
      }),
      certReq: true,
    });
    const { timestampResponse, status } = await service.timestamp({ timestampQuery: new Uint8Array(query.toSchema().toBER()) });
    expect(status).toBe('GRANTED');
    expect(pkijs.TimeStampResp.fromBER(timestampResponse).timeStampToken).toBeDefined();
    return timestampResponse;
  }

  it.each(['ES256', 'ES384', 'PS256', 'ED25519'] as const)('%s: signed through SignData, time-stamped and stapled, reads Trusted', async (keyAlgorithm) => {
    const { certificate } = await admin.issueCertificate({ profile: 'C2PA_SIGNING', commonName: `c2pa ${keyAlgorithm}`, keyAlgorithm });
    const chain = [...pemToDer(certificate!.certificatePem), ...pemToDer(certificate!.chainPem)];
    const { ocspResponse, status } = await admin.checkStatus({ certificateId: certificate!.certificateId });
    expect(status).toBe('GOOD');
    const alg = COSE_ALG[keyAlgorithm];
    const reserveSize = claimSignatureReserveSize({ alg, certificateChainDer: chain, timeStamp: true, ocspResponseLength: ocspResponse.length });
    const signer: ClaimSigner = {
      alg,
      reserveSize,
      sign: (claim) =>
        buildCoseSign1({
          alg,
          certificateChainDer: chain,
          claim,
          reserveSize,
          signSigStructure: async (data) => (await service.signData({ certificateId: certificate!.certificateId, data, encoding: 'ieee-p1363' })).signature,
          timeStamp: timeStampResponse,
          ocspResponses: [ocspResponse],
        }),
    };
    const signed = await engine.sign({ format: 'image/jpeg', asset, manifestDefinition: manifest, signer });
    const report = await engine.read({ format: 'image/jpeg', asset: signed.signedAsset, trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(report?.errors.map((e) => e.code)).toEqual([]);
    expect(report?.validationState).toBe('Trusted');
    expect(report?.successes.map((e) => e.code)).toEqual(expect.arrayContaining(['timeStamp.trusted', 'signingCredential.ocsp.notRevoked', 'claimSignature.validated']));
    expect(report?.signer?.algorithm).toBe(alg);
  });
});
