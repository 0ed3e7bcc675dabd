import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../../../test/support/cleanup.js';
import { createEngine } from './engine.js';
import type { C2paEngine, ManifestStoreReport } from './types.js';
import { createTestPki, testClaimSigner, type TestPki } from './test-support/test-pki.js';
import { opensslAuthorities, verifyTimeStamp, type OpensslAuthorities } from './test-support/openssl.js';
import { createdManifest, readMedia } from './test-support/media-fixtures.js';

/**
 * Long-term validation material from independent tools: an RFC 3161 response from `openssl ts` over
 * the countersignature bytes, and an OCSP response from `openssl ocsp`, both embedded in the COSE
 * signature and judged by c2pa-rs.
 */

let engine: C2paEngine;
let pki: TestPki;
let openssl: OpensslAuthorities;

beforeAll(async () => {
  engine = createEngine({ threads: 1 });
  [pki] = await Promise.all([createTestPki('LTV Test'), engine.warmup()]);
  openssl = await opensslAuthorities(pki);
});

afterAll(() => cleanUp({ engine: () => engine?.close(), openssl: () => openssl?.dispose() }));

const codes = (entries: ManifestStoreReport['errors'] | undefined) => entries?.map((e) => e.code) ?? [];

async function signWith(ocsp: Uint8Array | undefined, format = 'image/jpeg', file = 'no_manifest.jpg', form: 'response' | 'token' = 'response') {
  const stamped: Array<{ data: Uint8Array; timeStamp: Uint8Array }> = [];
  const signer = testClaimSigner(pki, {
    timeStamp: async (data) => {
      const timeStamp = form === 'response' ? await openssl.timeStamp(data) : await openssl.timeStampToken(data);
      stamped.push({ data, timeStamp });
      return timeStamp;
    },
    ocspResponses: ocsp === undefined ? undefined : [ocsp],
  });
  const result = await engine.sign({ format, asset: readMedia(file), manifestDefinition: createdManifest('long-term validation'), signer });
  return { result, stamped };
}

describe('time-stamp and OCSP staple from openssl', () => {
  it('reads Trusted with the time-stamp validated and trusted and the credential not revoked', async () => {
    const ocsp = await openssl.ocspResponse('good');
    const before = Date.now();
    const { result, stamped } = await signWith(ocsp);
    expect(stamped).toHaveLength(1);

    const report = await engine.read({ format: 'image/jpeg', asset: result.signedAsset, trustAnchorsPem: pki.root.pem });
    expect(report?.validationState).toBe('Trusted');
    expect(codes(report?.errors)).toEqual([]);
    expect(codes(report?.successes)).toEqual(
      expect.arrayContaining(['timeStamp.validated', 'timeStamp.trusted', 'signingCredential.ocsp.notRevoked', 'signingCredential.trusted']),
    );
    // The signing time is the token's genTime.
    expect(report?.signedAt).toBeDefined();
    const signedAt = Date.parse(report!.signedAt!);
    expect(signedAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
    expect(signedAt).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('asks the TSA for a time-stamp over the four-element CounterSignature structure, which openssl verifies', async () => {
    const { stamped } = await signWith(undefined);
    expect(stamped).toHaveLength(1);
    const { data, timeStamp } = stamped[0];
    // ["CounterSignature", …]: a 4-array (0x84) whose first element is a 16-character text (0x70).
    expect([data[0], data[1]]).toEqual([0x84, 0x70]);
    expect(Buffer.from(data.subarray(2, 18)).toString('latin1')).toBe('CounterSignature');
    expect(await verifyTimeStamp(timeStamp, data, pki)).toBe('Verification: OK');
  });

  it('still reads Trusted, time-stamp validated and trusted, when sigTst2 holds a bare token (signatures made before)', async () => {
    const { result, stamped } = await signWith(undefined, 'image/png', 'sample1.png', 'token');
    // A bare ContentInfo: SEQUENCE, then the signedData OID (06 09 2a 86 48 86 f7 0d 01 07 02).
    expect(Buffer.from(stamped[0].timeStamp.subarray(4, 6)).toString('hex')).toBe('0609');
    expect(await verifyTimeStamp(stamped[0].timeStamp, stamped[0].data, pki, { tokenIn: true })).toBe('Verification: OK');
    const report = await engine.read({ format: 'image/png', asset: result.signedAsset, trustAnchorsPem: pki.root.pem });
    expect(report?.validationState).toBe('Trusted');
    expect(codes(report?.errors)).toEqual([]);
    expect(codes(report?.successes)).toEqual(expect.arrayContaining(['timeStamp.validated', 'timeStamp.trusted']));
  });

  it('reads Trusted with the time-stamp but without a staple, OCSP fetching being off', async () => {
    const { result } = await signWith(undefined);
    const report = await engine.read({ format: 'image/jpeg', asset: result.signedAsset, trustAnchorsPem: pki.root.pem });
    expect(report?.validationState).toBe('Trusted');
    expect(codes(report?.successes)).toEqual(expect.arrayContaining(['timeStamp.validated', 'timeStamp.trusted']));
    expect(codes(report?.successes)).not.toContain('signingCredential.ocsp.notRevoked');
  });

  it('reads the time-stamp as untrusted without the root', async () => {
    const { result } = await signWith(undefined);
    const report = await engine.read({ format: 'image/jpeg', asset: result.signedAsset });
    expect(report?.validationState).toBe('Valid');
    expect(codes(report?.errors)).toContain('signingCredential.untrusted');
    expect(codes(report?.successes)).toContain('timeStamp.validated');
  });

  it('reads Invalid with signingCredential.ocsp.revoked when the staple says revoked before the time-stamp', async () => {
    const ocsp = await openssl.ocspResponse({ revokedAt: new Date(Date.now() - 3_600_000) });
    const { result } = await signWith(ocsp, 'audio/wav', 'sample1.wav');
    const report = await engine.read({ format: 'audio/wav', asset: result.signedAsset, trustAnchorsPem: pki.root.pem });
    expect(report?.validationState).toBe('Invalid');
    expect(codes(report?.errors)).toContain('signingCredential.ocsp.revoked');
  });
});
