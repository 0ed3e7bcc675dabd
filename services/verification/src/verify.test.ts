import { Code, ConnectError } from '@connectrpc/connect';
import { buildTimeStampQuery, readTimeStampResponse } from '@c2pa-mesh/pki';
import { verificationV1 } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrSigner } from './test-support/csr-signer.js';
import { createVerificationTestMesh, type VerificationTestMesh } from './test-support/verification-mesh.js';
import { sniffFormat } from '@c2pa-mesh/engine';
import { createdManifest, flipMediaByte, hashMismatchCode, MORE_SAMPLES, readMedia, UNSIGNED_SAMPLES } from './test-support/media.js';
import { sha256Of } from './verify-asset.js';

const { ValidationState } = verificationV1;

let t: VerificationTestMesh;
beforeAll(async () => {
  t = await createVerificationTestMesh();
});
afterAll(async () => {
  await t?.close();
});

const codes = (entries: Array<{ code: string }>) => entries.map((e) => e.code);
const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => ConnectError.from(e));

describe('Verify with the reference fixtures', () => {
  it('C.jpg is VALID with signingCredential.untrusted, signed by a certificate we did not issue', async () => {
    const asset = readMedia('C.jpg');
    const res = await t.verification().verify({ asset, format: 'image/jpeg' });
    expect(res.validationState).toBe(ValidationState.VALID);
    expect(res.valid).toBe(true);
    expect(res.trusted).toBe(false);
    expect(codes(res.errors)).toEqual(['signingCredential.untrusted']);
    expect(res.errors[0].url).toMatch(/c2pa\.signature$/);
    expect(res.errors[0].explanation).not.toBe('');
    expect(codes(res.successes)).toEqual(expect.arrayContaining(['claimSignature.validated', 'assertion.dataHash.match', 'timeStamp.validated']));
    expect(codes(res.warnings)).toContain('signingCredential.ocsp.skipped');
    expect(res.signer).toBe('C2PA Signer');
    expect(res.signedAt).toBe('2024-08-06T21:53:37.000Z');
    expect(res.assetSha256).toBe(sha256Of(asset));
    expect(res.format).toBe('image/jpeg');
    expect(res.activeManifestLabel).toMatch(/urn:uuid:/);
    expect(JSON.parse(res.manifestStoreJson).active_manifest).toBe(res.activeManifestLabel);
    expect(res.certificateStatus).toBe('NOT_ISSUED_BY_US');
    expect(res.registered).toBe(false);
    expect(res.assetId).toBe('');
    expect(res.requestId).toMatch(/^req_/);
    expect(res.durationMs).toBeGreaterThan(0n);
  });

  it('XCA.jpg is INVALID with assertion.dataHash.mismatch', async () => {
    const res = await t.verification().verify({ asset: readMedia('XCA.jpg') });
    expect(res.validationState).toBe(ValidationState.INVALID);
    expect(res.valid).toBe(false);
    expect(res.trusted).toBe(false);
    expect(codes(res.errors)).toContain('assertion.dataHash.mismatch');
    const mismatch = res.errors.find((e) => e.code === 'assertion.dataHash.mismatch')!;
    expect(mismatch.url).toContain('c2pa.hash.data');
    expect(mismatch.explanation).toMatch(/hash/i);
    expect(res.format).toBe('image/jpeg');
  });

  it.each([...UNSIGNED_SAMPLES, ...MORE_SAMPLES].map((s) => [s.file, s.format]))('unsigned %s answers not_found "no C2PA manifest"', async (file, format) => {
    for (const declared of [format, '']) {
      const err = await failure(t.verification().verify({ asset: readMedia(file), format: declared }));
      expect(err?.code).toBe(Code.NotFound);
      expect(err?.rawMessage).toMatch(/^no C2PA manifest/);
    }
  });
});

describe('format detection', () => {
  it('sniffs the format when none is declared', async () => {
    const res = await t.verification().verify({ asset: readMedia('C.jpg') });
    expect(res.format).toBe('image/jpeg');
  });

  it('accepts aliases of the declared format', async () => {
    const res = await t.verification().verify({ asset: readMedia('C.jpg'), format: 'jpg' });
    expect(res.format).toBe('image/jpeg');
  });

  it('a declared format the bytes contradict is invalid_argument naming both', async () => {
    const err = await failure(t.verification().verify({ asset: readMedia('C.jpg'), format: 'image/png' }));
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toBe('declared image/png but the bytes are a JPEG');
  });

  it('bytes of no known format, undeclared, are invalid_argument', async () => {
    const err = await failure(t.verification().verify({ asset: new TextEncoder().encode('just some text, not media') }));
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(/format could not be recognised/);
  });

  it('an empty asset is invalid_argument', async () => {
    const err = await failure(t.verification().verify({ asset: new Uint8Array() }));
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(/empty/);
  });

  it('an unknown declared format is invalid_argument listing the supported ones', async () => {
    const err = await failure(t.verification().verify({ asset: readMedia('C.jpg'), format: 'image/bmp' }));
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(/not supported; supported formats are image\/jpeg/);
  });
});

describe('assets the mesh signed', () => {
  it.each(UNSIGNED_SAMPLES.map((s) => [s.file, s.format]))('%s signed by the Signing service is TRUSTED, registered, ACTIVE; one changed byte makes it INVALID', async (file, format) => {
    const original = readMedia(file);
    const signed = await t.sign(original, format, { title: `${file} for verification` });
    const res = await t.verification().verify({ asset: signed.signedAsset, format });
    expect(res.validationState).toBe(ValidationState.TRUSTED);
    expect(res.trusted && res.valid).toBe(true);
    expect(res.errors).toEqual([]);
    expect(codes(res.successes)).toEqual(expect.arrayContaining(['claimSignature.validated', 'signingCredential.trusted', 'timeStamp.trusted']));
    expect(res.registered).toBe(true);
    expect(res.assetId).toBe(signed.assetId);
    expect(res.assetSha256).toBe(signed.assetSha256);
    expect(res.certificateStatus).toBe('ACTIVE');
    expect(res.revocationReason).toBe('');
    expect(res.signer).toBe('c2pa-mesh default signer');
    expect(res.signedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(res.title).toBe(`${file} for verification`);
    expect(res.claimGenerator).toContain('c2pa-mesh-verification-test/1.0.0');

    const altered = flipMediaByte(original, signed.signedAsset);
    const tampered = await t.verification().verify({ asset: altered, format });
    expect(tampered.validationState).toBe(ValidationState.INVALID);
    expect(tampered.valid).toBe(false);
    expect(codes(tampered.errors).some((c) => /^assertion\.(dataHash|bmffHash)\.mismatch$/.test(c))).toBe(true);
    expect(tampered.registered).toBe(false);
    // The signature itself still names our certificate: its live status is still known.
    expect(tampered.certificateStatus).toBe('ACTIVE');
  });
});

describe('the further formats the mesh signs', () => {
  it.each(MORE_SAMPLES.map((s) => [s.file, s.format]))('%s signed as %s is TRUSTED, declared or sniffed; one changed byte makes it INVALID', async (file, format) => {
    const original = readMedia(file);
    const signed = await t.sign(original, format, { title: `${file} as ${format}` });
    for (const declared of [format, '']) {
      const res = await t.verification().verify({ asset: signed.signedAsset, format: declared });
      expect(res.validationState).toBe(ValidationState.TRUSTED);
      expect(res.errors).toEqual([]);
      expect(res.format).toBe(declared === '' ? sniffFormat(original) : format);
      expect(res.registered).toBe(true);
      expect(res.assetId).toBe(signed.assetId);
      expect(res.title).toBe(`${file} as ${format}`);
    }
    const tampered = await t.verification().verify({ asset: flipMediaByte(original, signed.signedAsset), format });
    expect(tampered.validationState).toBe(ValidationState.INVALID);
    expect(codes(tampered.errors)).toContain(hashMismatchCode(format));
    expect(tampered.registered).toBe(false);
  });
});

describe('signatures made before sigTst2 carried the whole TimeStampResp', () => {
  it('a bare TimeStampToken from the mesh TSA still reads TRUSTED, the time-stamp trusted, signed at its genTime', async () => {
    let genTime: Date | undefined;
    const partner = await csrSigner(t.ca, {
      commonName: 'Bare Token Signer',
      projectId: t.projectId,
      timeStamp: async (data) => {
        const query = buildTimeStampQuery(data);
        const { timestampResponse } = await t.ca.timestamp({ timestampQuery: query.der });
        const received = readTimeStampResponse(timestampResponse, query);
        genTime = received.genTime;
        return received.token; // what Sign and SignHash wrote before
      },
    });
    const signed = await t.mesh.engine!.sign({ format: 'image/png', asset: readMedia('sample1.png'), manifestDefinition: createdManifest('bare token'), signer: partner.claimSigner });
    const res = await t.verification().verify({ asset: signed.signedAsset, format: 'image/png' });
    expect(res.errors).toEqual([]);
    expect(res.validationState).toBe(ValidationState.TRUSTED);
    expect(codes(res.successes)).toEqual(expect.arrayContaining(['claimSignature.validated', 'timeStamp.validated', 'timeStamp.trusted']));
    expect(Date.parse(res.signedAt)).toBe(Math.floor(genTime!.getTime() / 1000) * 1000);
  });
});

describe('limits and identities', () => {
  it('refuses an asset above the caller key limit with resource_exhausted', async () => {
    const small = t.verification({ kind: 'API_KEY', id: 'key_small', projectId: t.projectId, scopes: new Set(['verify']), limits: { maxAssetBytes: 1024, requestsPerMinute: 600 } });
    const err = await failure(small.verify({ asset: readMedia('C.jpg') }));
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.rawMessage).toMatch(/larger than .*1024 bytes/);
  });

  it('refuses a caller without the verify scope', async () => {
    const signer = t.verification({ kind: 'API_KEY', id: 'key_sign', projectId: t.projectId, scopes: new Set(['sign']) });
    const err = await failure(signer.verify({ asset: readMedia('C.jpg') }));
    expect(err?.code).toBe(Code.PermissionDenied);
  });
});
