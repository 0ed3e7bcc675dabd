import { execFile } from 'node:child_process';
import { X509Certificate, createHash, verify as verifySignature } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createClient, Code } from '@connectrpc/connect';
import { Decoder, Tag, type Options as CborOptions } from 'cbor-x';
import { countersignatureData, sigStructure } from '@c2pa-mesh/engine';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { readTimeStamp } from '@c2pa-mesh/pki';
import { VerificationService } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, removeDir } from '../../../test/support/cleanup.js';
import { canonicalJson } from './canonical-json.js';
import { HASH_RECORD_TYPE } from './hash-record.js';
import { createProject, failure, projectKey, registryClient, signingClient } from './test-support/signing-test-kit.js';

const run = promisify(execFile);
const cbor = new Decoder({ mapsAsObjects: false, useRecords: false } as CborOptions);

let mesh: TestMesh;
let projectId: string;
let scratch: string;

beforeAll(async () => {
  mesh = await createTestMesh();
  projectId = await createProject(mesh, 'Hash records');
  scratch = await mkdtemp(path.join(tmpdir(), 'sign-hash-test-'));
});
afterAll(() => cleanUp({ mesh: () => mesh?.close(), scratch: () => removeDir(scratch) }));

const contentHash = `sha256:${createHash('sha256').update('the photo stays with the customer').digest('hex')}`;

/**
 * `openssl ts -verify` of a time-stamp over `data`, with the mesh root as the only anchor: a
 * TimeStampResp as it is, a bare token with -token_in.
 */
async function opensslVerifyTimeStamp(timeStamp: Uint8Array, data: Uint8Array, form: 'response' | 'token'): Promise<string> {
  const file = (name: string) => path.join(scratch, name);
  await Promise.all([
    writeFile(file('time-stamp.der'), timeStamp),
    writeFile(file('data.bin'), data),
    writeFile(file('root.pem'), mesh.pki.c2paRoot.pem),
    writeFile(file('intermediate.pem'), mesh.pki.c2paIntermediate.pem),
  ]);
  const { stdout } = await run('openssl', [
    'ts', '-verify', '-in', file('time-stamp.der'), ...(form === 'token' ? ['-token_in'] : []), '-data', file('data.bin'),
    '-CAfile', file('root.pem'), '-untrusted', file('intermediate.pem'),
  ]);
  return stdout.trim();
}

describe('SignHash', () => {
  let response: Awaited<ReturnType<ReturnType<typeof signingClient>['signHash']>>;

  beforeAll(async () => {
    response = await signingClient(mesh, projectKey(projectId)).signHash({
      contentHash: contentHash.toUpperCase().replace('SHA256:', 'sha256:'),
      headline: 'Flooded street in the old town',
      author: 'Jo Reporter',
      contentType: 'authentic',
      location: 'Portland, OR',
      recordedAt: '2026-03-28T08:00:00-07:00',
      captureMode: 'PHOTO',
      tags: ['flood', 'city'],
      format: 'jpg',
    });
  });

  it('returns the canonical payload it signed', () => {
    expect(response.contentHash).toBe(contentHash);
    const payload = JSON.parse(response.payloadJson);
    expect(response.payloadJson).toBe(canonicalJson(payload));
    expect(payload).toEqual({
      type: HASH_RECORD_TYPE,
      content_hash: contentHash,
      headline: 'Flooded street in the old town',
      author: 'Jo Reporter',
      content_type: 'AUTHENTIC',
      location: 'Portland, OR',
      recorded_at: '2026-03-28T15:00:00.000Z',
      capture_mode: 'PHOTO',
      format: 'image/jpeg',
      tags: ['flood', 'city'],
      signed_at: expect.any(String),
      certificate_id: mesh.pki.defaultSignerId,
    });
    expect(Object.keys(payload)).toEqual([...Object.keys(payload)].sort());
    // Signed before the time-stamp was asked for.
    expect(Date.parse(payload.signed_at)).toBeLessThanOrEqual(Date.parse(response.signedAt) + 1);
    expect(response.signerId).toBe(mesh.pki.defaultSignerId);
  });

  it('is a COSE_Sign1 over the payload that verifies with the chain alone', () => {
    const decoded = cbor.decode(response.signature);
    expect(decoded).toBeInstanceOf(Tag);
    expect(decoded.tag).toBe(18);
    const [protectedBytes, unprotected, payload, signature] = decoded.value as [Uint8Array, Map<string, unknown>, null, Uint8Array];
    expect(payload).toBeNull();
    const header = cbor.decode(protectedBytes) as Map<number, unknown>;
    expect(header.get(1)).toBe(-7);
    const x5chain = header.get(33) as Uint8Array[];
    const chain = response.certificateChainPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)!.map((pem) => new X509Certificate(pem));
    expect(x5chain.map((der) => new X509Certificate(der).fingerprint256)).toEqual(chain.map((c) => c.fingerprint256));
    const [leaf, intermediate] = chain;
    expect(leaf.checkIssued(intermediate)).toBe(true);
    expect(intermediate.checkIssued(new X509Certificate(mesh.pki.c2paRoot.pem))).toBe(true);

    const payloadBytes = new TextEncoder().encode(response.payloadJson);
    const signed = sigStructure(protectedBytes, payloadBytes);
    expect(verifySignature('sha256', signed, { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    const tampered = new TextEncoder().encode(response.payloadJson.replace('Flooded', 'Fluoded'));
    expect(verifySignature('sha256', sigStructure(protectedBytes, tampered), { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(false);

    // sigTst2 holds the whole TimeStampResp (granted: 30 03 02 01 00), as c2pa-rs writes it; the
    // response's timestamp_token is the token inside it.
    const tokens = (unprotected.get('sigTst2') as Map<string, Array<Map<string, Uint8Array>>>).get('tstTokens')!;
    const val = tokens[0].get('val')!;
    expect(Buffer.from(val.subarray(4, 9)).toString('hex')).toBe('3003020100');
    const read = readTimeStamp(val);
    expect(read.form).toBe('response');
    expect(Buffer.from(read.token).equals(Buffer.from(response.timestampToken))).toBe(true);
    const ocspVals = (unprotected.get('rVals') as Map<string, Uint8Array[]>).get('ocspVals')!;
    expect(ocspVals).toHaveLength(1);
    expect(ocspVals[0].length).toBeGreaterThan(100);
  });

  it('carries an RFC 3161 time-stamp over the countersignature that openssl verifies to the mesh root', async () => {
    const [protectedBytes, unprotected, , signature] = (cbor.decode(response.signature) as Tag).value as [Uint8Array, Map<string, unknown>, null, Uint8Array];
    const data = countersignatureData(protectedBytes, signature);
    const val = (unprotected.get('sigTst2') as Map<string, Array<Map<string, Uint8Array>>>).get('tstTokens')![0].get('val')!;
    expect(await opensslVerifyTimeStamp(val, data, 'response')).toBe('Verification: OK');
    expect(await opensslVerifyTimeStamp(response.timestampToken, data, 'token')).toBe('Verification: OK');
  });

  it('is registered as a hash record that VerifyByHash finds', async () => {
    const { asset } = await registryClient(mesh).getAsset({ assetId: response.assetId });
    expect(asset).toMatchObject({
      kind: 'HASH_RECORD',
      projectId,
      assetSha256: contentHash,
      contentType: 'AUTHENTIC',
      headline: 'Flooded street in the old town',
      author: 'Jo Reporter',
      payloadJson: response.payloadJson,
      signerId: mesh.pki.defaultSignerId,
      format: 'image/jpeg',
      tags: ['flood', 'city'],
    });
    const verification = createClient(VerificationService, mesh.transport(ADMIN_IDENTITY));
    const found = await verification.verifyByHash({ contentHash });
    expect(found).toMatchObject({ found: true, assetId: response.assetId, kind: 'HASH_RECORD', headline: 'Flooded street in the old town', contentType: 'AUTHENTIC', certificateStatus: 'ACTIVE' });
    expect(Date.parse(found.signedAt)).toBe(Date.parse(response.signedAt));
  });

  it('defaults content_type to AUTHENTIC and leaves unstated fields out of the payload', async () => {
    const minimal = await signingClient(mesh).signHash({ contentHash: `sha256:${'0'.repeat(64)}`, headline: 'Minimal', projectId });
    expect(JSON.parse(minimal.payloadJson)).toEqual({
      type: HASH_RECORD_TYPE,
      content_hash: `sha256:${'0'.repeat(64)}`,
      headline: 'Minimal',
      content_type: 'AUTHENTIC',
      signed_at: expect.any(String),
      certificate_id: mesh.pki.defaultSignerId,
    });
  });

  const refusals: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a missing content hash', { contentHash: '' }, /^content_hash is required/],
    ['a hash that is not sha256:<64 hex>', { contentHash: 'md5:abc' }, /^content_hash must be "sha256:" followed by 64 hex digits/],
    ['a missing headline', { headline: '  ' }, /^headline is required/],
    ['an unknown content type', { contentType: 'DEEPFAKE' }, /^content_type must be one of AUTHENTIC, AI_ENHANCED, AI_GENERATED, not "DEEPFAKE"$/],
    ['a recorded_at that is not RFC 3339', { recordedAt: 'yesterday' }, /^recorded_at must be an RFC 3339 time/],
    ['an unknown capture mode', { captureMode: 'DRAWING' }, /^capture_mode must be one of PHOTO, VIDEO, AUDIO, OTHER/],
    ['a format that is not a MIME type', { format: 'not a type' }, /^format must be a MIME type/],
  ];
  it.each(refusals)('refuses %s with invalid_argument', async (_name, overrides, message) => {
    const error = await failure(signingClient(mesh).signHash({ contentHash, headline: 'x', projectId, ...overrides }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toMatch(message);
  });
});
