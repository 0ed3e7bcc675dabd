import { Code, ConnectError } from '@connectrpc/connect';
import { verificationV1 } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerificationTestMesh, type VerificationTestMesh } from './test-support/verification-mesh.js';
import { readMedia } from './test-support/media.js';
import { sha256Of } from './verify-asset.js';

const { ValidationState } = verificationV1;

let t: VerificationTestMesh;
let otherProject: string;
beforeAll(async () => {
  t = await createVerificationTestMesh();
  ({ projectId: otherProject } = await t.registry.createProject({ name: 'verification-history-other' }));
});
afterAll(async () => {
  await t?.close();
});

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => ConnectError.from(e));
const keyOf = (projectId: string) => ({ kind: 'API_KEY' as const, id: `key_${projectId}`, projectId, scopes: new Set(['verify'] as const) });

describe('VerifyByHash', () => {
  it('finds what the mesh signed, with signer, signing time and live certificate status', async () => {
    const signed = await t.sign(readMedia('sample1.webp'), 'image/webp', { title: 'hash lookup' });
    const res = await t.verification().verifyByHash({ contentHash: signed.assetSha256.toUpperCase().replace('SHA256:', 'sha256:') });
    expect(res).toMatchObject({
      found: true,
      assetId: signed.assetId,
      signer: 'c2pa-mesh default signer',
      certificateStatus: 'ACTIVE',
      certificateId: signed.certificateId,
      format: 'image/webp',
      title: 'hash lookup',
      kind: 'ASSET',
    });
    expect(res.signedAt).toMatch(/^\d{4}-\d{2}-\d{2}T.*Z$/);
  });

  it('finds a SignHash record by the hash that was signed', async () => {
    const contentHash = sha256Of(new TextEncoder().encode(`an article body ${Date.now()}`));
    const record = await t.signing.signHash({ contentHash, headline: 'Verification desk', author: 'A. Reporter', contentType: 'AUTHENTIC', projectId: t.projectId });
    const res = await t.verification().verifyByHash({ contentHash });
    expect(res).toMatchObject({ found: true, assetId: record.assetId, kind: 'HASH_RECORD', headline: 'Verification desk', author: 'A. Reporter', contentType: 'AUTHENTIC', certificateStatus: 'ACTIVE' });
  });

  it('answers found=false for an unknown hash, and invalid_argument for a malformed one', async () => {
    const res = await t.verification().verifyByHash({ contentHash: `sha256:${'0'.repeat(64)}` });
    expect(res.found).toBe(false);
    expect(res.assetId).toBe('');
    for (const bad of ['', 'sha256:abc', `md5:${'0'.repeat(32)}`, `sha256:${'g'.repeat(64)}`]) {
      const err = await failure(t.verification().verifyByHash({ contentHash: bad }));
      expect(err?.code).toBe(Code.InvalidArgument);
    }
  });
});

describe('ListVerifications', () => {
  it('lists every verification made, newest first, with who, when, what and how', async () => {
    const ours = t.verification(keyOf(t.projectId));
    const started = new Date(Date.now() - 1000).toISOString();
    const c = await ours.verify({ asset: readMedia('C.jpg') });
    const xca = await ours.verify({ asset: readMedia('XCA.jpg') });
    await ours.verifyBatch({ items: [{ name: 'c', asset: readMedia('C.jpg') }] });
    await ours.verifyByHash({ contentHash: `sha256:${'1'.repeat(64)}` });
    // Another project's verification is not ours to see.
    await t.verification(keyOf(otherProject)).verify({ asset: readMedia('C.jpg') });

    const { verifications, nextPageToken } = await ours.listVerifications({ since: started });
    expect(nextPageToken).toBe('');
    expect(verifications.map((v) => v.source)).toEqual(['HASH', 'BATCH', 'BYTES', 'BYTES']);
    expect(verifications.every((v) => v.projectId === t.projectId)).toBe(true);
    const [hash, batch, invalid, valid] = verifications;
    expect(hash).toMatchObject({ assetSha256: `sha256:${'1'.repeat(64)}`, validationState: ValidationState.INVALID });
    expect(batch).toMatchObject({ assetSha256: c.assetSha256, validationState: ValidationState.VALID, format: 'image/jpeg', signer: 'C2PA Signer', errorCount: 1, firstErrorCode: 'signingCredential.untrusted' });
    expect(invalid).toMatchObject({ assetSha256: xca.assetSha256, validationState: ValidationState.INVALID, requestId: xca.requestId });
    expect(invalid.errorCount).toBeGreaterThan(0);
    expect(valid).toMatchObject({ assetSha256: c.assetSha256, validationState: ValidationState.VALID, requestId: c.requestId });
    expect(valid.verificationId).not.toBe('');
    expect(Date.parse(valid.verifiedAt)).toBeGreaterThanOrEqual(Date.parse(started));
    expect(Date.parse(hash.verifiedAt)).toBeGreaterThanOrEqual(Date.parse(valid.verifiedAt));
  });

  it('filters by state, hash and time range, and pages', async () => {
    const ours = t.verification(keyOf(t.projectId));
    const invalidOnly = await ours.listVerifications({ validationState: ValidationState.INVALID });
    expect(invalidOnly.verifications.length).toBeGreaterThan(0);
    expect(invalidOnly.verifications.every((v) => v.validationState === ValidationState.INVALID)).toBe(true);

    const c = await ours.verify({ asset: readMedia('C.jpg') });
    const byHash = await ours.listVerifications({ assetSha256: c.assetSha256 });
    expect(byHash.verifications.length).toBeGreaterThanOrEqual(3);
    expect(byHash.verifications.every((v) => v.assetSha256 === c.assetSha256)).toBe(true);

    const future = await ours.listVerifications({ since: new Date(Date.now() + 60_000).toISOString() });
    expect(future.verifications).toEqual([]);
    const past = await ours.listVerifications({ until: '2000-01-01T00:00:00Z' });
    expect(past.verifications).toEqual([]);

    const all = await ours.listVerifications({});
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await ours.listVerifications({ pageSize: 2, pageToken });
      expect(page.verifications.length).toBeLessThanOrEqual(2);
      seen.push(...page.verifications.map((v) => v.verificationId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual(all.verifications.map((v) => v.verificationId));
  });

  it('keeps projects apart; the admin sees every project', async () => {
    const other = await t.verification(keyOf(otherProject)).listVerifications({});
    expect(other.verifications.length).toBe(1);
    expect(other.verifications[0].projectId).toBe(otherProject);
    const naming = await failure(t.verification(keyOf(otherProject)).listVerifications({ projectId: t.projectId }));
    expect(naming?.code).toBe(Code.NotFound);
    const admin = await t.verification().listVerifications({ pageSize: 500 });
    // The admin's own lookups above belong to no project.
    expect(new Set(admin.verifications.map((v) => v.projectId))).toEqual(new Set([t.projectId, otherProject, '']));
  });

  it('refuses malformed filters with invalid_argument', async () => {
    for (const req of [{ since: 'yesterday' }, { until: '2026-13-45' }, { pageSize: -1 }, { assetSha256: 'sha256:xyz' }, { since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' }, { pageToken: 'not-a-token' }]) {
      const err = await failure(t.verification().listVerifications(req));
      expect(err?.code, JSON.stringify(req)).toBe(Code.InvalidArgument);
    }
  });
});
