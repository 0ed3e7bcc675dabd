import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshError, invalidArgument } from '@c2pa-mesh/errors';
import { createEngine } from './engine.js';
import type { C2paEngine, ManifestStoreReport, SignAssetResult } from './types.js';
import { createTestPki, testClaimSigner, type TestPki } from './test-support/test-pki.js';
import {
  createdManifest,
  flipMediaByte,
  hashMismatchCode,
  MORE_SAMPLES,
  readMedia,
  TRAINED_ALGORITHMIC_MEDIA,
  UNSIGNED_SAMPLES,
} from './test-support/media-fixtures.js';
import { SIGNABLE_FORMATS } from './formats.js';

let engine: C2paEngine;
let pki: TestPki;
const signed = new Map<string, SignAssetResult>();

beforeAll(async () => {
  engine = createEngine({ threads: 2 });
  [pki] = await Promise.all([createTestPki(), engine.warmup()]);
});

afterAll(async () => {
  await engine.close();
});

const codes = (report: ManifestStoreReport | null) => ({
  errors: report?.errors.map((e) => e.code) ?? [],
  successes: report?.successes.map((e) => e.code) ?? [],
});

async function rejection(promise: Promise<unknown>): Promise<MeshError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MeshError);
  return error as MeshError;
}

describe.each([...UNSIGNED_SAMPLES, ...MORE_SAMPLES].map((s) => [s.format, s.file]))('%s (%s)', (format, file) => {
  const original = readMedia(file);

  it('signs, and reads back Trusted with the root as trust anchor', async () => {
    const result = await engine.sign({
      format,
      asset: original,
      manifestDefinition: createdManifest(`${file} signed by the engine test`),
      signer: testClaimSigner(pki),
      hashInput: true,
    });
    signed.set(format, result);
    expect(result.signedAsset.length).toBeGreaterThan(original.length);
    const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    expect(result.signedAssetSha256).toBe(sha256(result.signedAsset));
    expect(result.inputSha256).toBe(sha256(original));
    expect(result.activeManifestLabel).toMatch(/^urn:c2pa:/);
    expect(JSON.parse(result.manifestStoreJson).active_manifest).toBe(result.activeManifestLabel);

    const report = await engine.read({ format, asset: result.signedAsset, trustAnchorsPem: pki.root.pem });
    expect(report?.validationState).toBe('Trusted');
    expect(codes(report).errors).toEqual([]);
    expect(codes(report).successes).toEqual(expect.arrayContaining(['signingCredential.trusted', 'claimSignature.validated']));
    expect(report?.activeManifestLabel).toBe(result.activeManifestLabel);
    expect(report?.title).toBe(`${file} signed by the engine test`);
    expect(report?.format).toBe(format);
    expect(report?.claimGenerator).toBe('c2pa-mesh-engine-test/1.0.0');
    expect(report?.signer).toEqual({
      commonName: 'Engine Test Signer',
      organization: 'Engine Test Newsroom',
      issuer: 'Engine Test Intermediate CA',
      certificateSerialNumber: pki.signer.certificate.serialNumber.replace(/^0+/, '').toLowerCase(),
      algorithm: 'es256',
      certificateSha256: createHash('sha256').update(pki.signer.der).digest('base64'),
    });
    const store = JSON.parse(report!.manifestStoreJson);
    const actions = store.manifests[result.activeManifestLabel].assertions.find((a: { label: string }) => a.label.startsWith('c2pa.actions'));
    expect(actions.data.actions[0]).toMatchObject({ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA });
  });

  it('reads Valid with signingCredential.untrusted without trust anchors', async () => {
    const report = await engine.read({ format, asset: signed.get(format)!.signedAsset });
    expect(report?.validationState).toBe('Valid');
    expect(codes(report).errors).toEqual(['signingCredential.untrusted']);
  });

  it('reads Invalid with a hash mismatch when one byte of media data changes', async () => {
    const altered = flipMediaByte(original, signed.get(format)!.signedAsset);
    const report = await engine.read({ format, asset: altered, trustAnchorsPem: pki.root.pem });
    expect(report?.validationState).toBe('Invalid');
    expect(codes(report).errors).toContain(hashMismatchCode(format));
  });

  it('reads the unsigned original as carrying no manifest', async () => {
    expect(await engine.read({ format, asset: original })).toBeNull();
  });
});

describe('formats', () => {
  it('the fixtures cover every format the engine signs', () => {
    expect(new Set([...UNSIGNED_SAMPLES, ...MORE_SAMPLES].map((s) => s.format))).toEqual(new Set(SIGNABLE_FORMATS));
  });

  it('a bare JPEG XL codestream → invalid_argument asking for the container', async () => {
    // The codestream the container fixture wraps: its last box, jxlc, holds it whole.
    const container = readMedia('sample1.jxl');
    const jxlc = Buffer.from(container).indexOf('jxlc');
    const codestream = container.subarray(jxlc + 4);
    expect([...codestream.subarray(0, 2)]).toEqual([0xff, 0x0a]);
    const error = await rejection(engine.sign({ format: 'jxl', asset: codestream, manifestDefinition: createdManifest('jxl'), signer: testClaimSigner(pki) }));
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toContain('a bare JPEG XL codestream cannot carry Content Credentials');
  });

  it.each([
    ['docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
    ['epub', 'application/epub+zip'],
    ['aiff', 'audio/aiff'],
    ['ogg', 'audio/ogg'],
    ['arw', 'image/x-sony-arw'],
  ])('a format the engine does not sign (%s) → invalid_argument naming the supported ones', async (extension, mime) => {
    for (const format of [extension, mime]) {
      const error = await rejection(engine.sign({ format, asset: readMedia('sample1.dng'), manifestDefinition: createdManifest('x'), signer: testClaimSigner(pki) }));
      expect(error.code).toBe('invalid_argument');
      expect(error.message).toContain(`"${format}" is not supported; supported formats are image/jpeg, image/png`);
      expect(error.message).toContain('image/heic');
    }
  });
});

describe('reading the signed reference fixtures', () => {
  it('C.jpg reads Valid with signingCredential.untrusted', async () => {
    const report = await engine.read({ format: 'image/jpeg', asset: readMedia('C.jpg') });
    expect(report?.validationState).toBe('Valid');
    expect(codes(report).errors).toEqual(['signingCredential.untrusted']);
    expect(report?.signer).toMatchObject({ commonName: 'C2PA Signer', organization: 'C2PA Test Signing Cert', algorithm: 'ps256' });
    expect(report?.signedAt).toBe('2024-08-06T21:53:37+00:00');
    expect(codes(report).successes).toContain('timeStamp.validated');
    expect(report?.warnings.map((w) => w.code)).toContain('signingCredential.ocsp.skipped');
  });

  it('XCA.jpg reads Invalid with assertion.dataHash.mismatch', async () => {
    const report = await engine.read({ format: 'jpg', asset: readMedia('XCA.jpg') });
    expect(report?.validationState).toBe('Invalid');
    expect(codes(report).errors).toContain('assertion.dataHash.mismatch');
    const mismatch = report!.errors.find((e) => e.code === 'assertion.dataHash.mismatch')!;
    expect(mismatch.url).toContain('c2pa.hash.data');
    expect(mismatch.explanation).toMatch(/hash/i);
  });

  it('trusts an end-entity certificate on the allowed list, by PEM or by fingerprint', async () => {
    const asset = signed.get('image/jpeg')!.signedAsset;
    const byPem = await engine.read({ format: 'image/jpeg', asset, allowedCertificatesPem: pki.signer.pem });
    expect(byPem?.validationState).toBe('Trusted');
    expect(codes(byPem).errors).toEqual([]);
    expect(byPem?.successes[0]).toMatchObject({ code: 'signingCredential.trusted', explanation: 'signing certificate trusted, found in the allowed list' });
    const fingerprint = createHash('sha256').update(pki.signer.der).digest('base64');
    expect((await engine.read({ format: 'image/jpeg', asset, allowedCertificatesPem: `${fingerprint}\n` }))?.validationState).toBe('Trusted');
    // Another certificate on the list, or the issuer instead of the signer, does not help.
    const other = await createTestPki('Unrelated');
    expect((await engine.read({ format: 'image/jpeg', asset, allowedCertificatesPem: other.signer.pem + pki.intermediate.pem }))?.validationState).toBe('Valid');
  });

  it('never lifts an Invalid manifest through the allowed list', async () => {
    const altered = flipMediaByte(readMedia('no_manifest.jpg'), signed.get('image/jpeg')!.signedAsset);
    const report = await engine.read({ format: 'image/jpeg', asset: altered, allowedCertificatesPem: pki.signer.pem });
    expect(report?.validationState).toBe('Invalid');
  });
});

describe('manifests the engine refuses', () => {
  const jpeg = readMedia('no_manifest.jpg');
  const manifestWithActions = (actions: unknown[]) =>
    JSON.stringify({ title: 'refused', claim_generator_info: [{ name: 'test', version: '1' }], assertions: [{ label: 'c2pa.actions', data: { actions } }] });

  it('first action not c2pa.created or c2pa.opened → invalid_argument with the explanation', async () => {
    const error = await rejection(
      engine.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: manifestWithActions([{ action: 'c2pa.edited' }]), signer: testClaimSigner(pki) }),
    );
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toBe('the engine refused to sign this manifest: first action must be created or opened (assertion.action.malformed)');
    expect(error.details.statuses).toEqual([expect.objectContaining({ code: 'assertion.action.malformed', explanation: 'first action must be created or opened' })]);
  });

  it('c2pa.created without digitalSourceType → invalid_argument with the explanation', async () => {
    const error = await rejection(
      engine.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: manifestWithActions([{ action: 'c2pa.created' }]), signer: testClaimSigner(pki) }),
    );
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toContain('c2pa.created action must have a digitalSourceType');
  });

  it('a manifest definition that is not JSON → invalid_argument saying where', async () => {
    const error = await rejection(engine.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: '{"title": ', signer: testClaimSigner(pki) }));
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toBe('the manifest definition is not valid: EOF while parsing a value at line 1, column 10');
  });

  it('a read-only format → failed_precondition', async () => {
    // A bare manifest store (a JUMBF superbox): c2pa-rs reads it, but it has no content to bind.
    const store = new Uint8Array(Buffer.concat([Buffer.from([0, 0, 0, 8]), Buffer.from('jumb'), Buffer.alloc(120)]));
    const error = await rejection(engine.sign({ format: 'application/c2pa', asset: store, manifestDefinition: createdManifest('c2pa'), signer: testClaimSigner(pki) }));
    expect(error.code).toBe('failed_precondition');
    expect(error.message).toBe('C2PA manifest store assets can be verified but not signed');
  });

  it('a mislabelled asset → invalid_argument before the engine runs', async () => {
    const error = await rejection(engine.sign({ format: 'image/png', asset: jpeg, manifestDefinition: createdManifest('x'), signer: testClaimSigner(pki) }));
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toBe('declared image/png but the bytes are a JPEG');
  });
});

describe('the claim signer across threads', () => {
  const jpeg = readMedia('no_manifest.jpg');

  it('hands the claim to the signer on the caller thread', async () => {
    const claims: Uint8Array[] = [];
    await engine.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: createdManifest('claims'), signer: testClaimSigner(pki, { onClaim: (c) => claims.push(c) }) });
    expect(claims).toHaveLength(1);
    expect(claims[0]).toBeInstanceOf(Uint8Array);
    expect(claims[0].length).toBeGreaterThan(100);
  });

  it('surfaces the signer error with its MeshError code intact', async () => {
    const refusal = invalidArgument('signing key sk-1 is revoked');
    const error = await rejection(
      engine.sign({
        format: 'image/jpeg',
        asset: jpeg,
        manifestDefinition: createdManifest('x'),
        signer: { alg: 'es256', reserveSize: 20_000, sign: async () => Promise.reject(refusal) },
      }),
    );
    expect(error).toBe(refusal);
  });

  it('wraps a non-domain signer error as internal, keeping the cause', async () => {
    const cause = new Error('HSM connection reset');
    const error = await rejection(
      engine.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: createdManifest('x'), signer: { alg: 'es256', reserveSize: 20_000, sign: async () => Promise.reject(cause) } }),
    );
    expect(error.code).toBe('internal');
    expect(error.message).toBe('the claim signer failed: HSM connection reset');
    expect(error.cause).toBe(cause);
  });

  it('rejects a COSE_Sign1 that does not fill the reserve exactly', async () => {
    const error = await rejection(
      engine.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: createdManifest('x'), signer: { alg: 'es256', reserveSize: 20_000, sign: async () => new Uint8Array(100) } }),
    );
    expect(error.code).toBe('internal');
    expect(error.message).toMatch(/returned 100 bytes but reserved 20000/);
  });

  it('two workers sign in parallel with independent, correct results', async () => {
    const otherPki = await createTestPki('Second Newsroom');
    const [first, second] = await Promise.all([
      engine.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: createdManifest('first'), signer: testClaimSigner(pki) }),
      engine.sign({ format: 'audio/wav', asset: readMedia('sample1.wav'), manifestDefinition: createdManifest('second'), signer: testClaimSigner(otherPki) }),
    ]);
    const [a, b] = await Promise.all([
      engine.read({ format: 'image/jpeg', asset: first.signedAsset, trustAnchorsPem: pki.root.pem }),
      engine.read({ format: 'audio/wav', asset: second.signedAsset, trustAnchorsPem: otherPki.root.pem }),
    ]);
    expect([a?.validationState, a?.title, a?.signer?.commonName]).toEqual(['Trusted', 'first', 'Engine Test Signer']);
    expect([b?.validationState, b?.title, b?.signer?.commonName]).toEqual(['Trusted', 'second', 'Second Newsroom Signer']);
    // Each asset is trusted under its own root only.
    const crossed = await engine.read({ format: 'audio/wav', asset: second.signedAsset, trustAnchorsPem: pki.root.pem });
    expect(crossed?.validationState).toBe('Valid');
  });
});
