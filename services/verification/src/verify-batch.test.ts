import { Code, ConnectError } from '@connectrpc/connect';
import { verificationV1 } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerificationTestMesh, type VerificationTestMesh } from './test-support/verification-mesh.js';
import { readMedia } from './test-support/media.js';

const { ValidationState } = verificationV1;

let t: VerificationTestMesh;
beforeAll(async () => {
  t = await createVerificationTestMesh();
});
afterAll(async () => {
  await t?.close();
});

describe('VerifyBatch', () => {
  it('answers one result or error per item, in order, and totals that add up', async () => {
    const signed = await t.sign(readMedia('sample1.png'), 'image/png');
    const items = [
      { name: 'trusted.png', asset: signed.signedAsset },
      { name: 'C.jpg', asset: readMedia('C.jpg'), format: 'image/jpeg' },
      { name: 'XCA.jpg', asset: readMedia('XCA.jpg') },
      { name: 'unsigned.mp3', asset: readMedia('sample1.mp3') },
      { name: 'mislabelled', asset: readMedia('C.jpg'), format: 'image/png' },
      { name: 'text', asset: new TextEncoder().encode('not media at all') },
      { name: 'C again', asset: readMedia('C.jpg') },
    ];
    const res = await t.verification().verifyBatch({ items });
    expect(res.results.map((r) => r.name)).toEqual(items.map((i) => i.name));
    const outcome = (i: number) => res.results[i].outcome;
    const state = (i: number) => (outcome(i).case === 'result' ? (outcome(i).value as verificationV1.VerifyResponse).validationState : undefined);
    const error = (i: number) => (outcome(i).case === 'error' ? (outcome(i).value as verificationV1.BatchError) : undefined);
    expect(state(0)).toBe(ValidationState.TRUSTED);
    expect(state(1)).toBe(ValidationState.VALID);
    expect(state(2)).toBe(ValidationState.INVALID);
    expect(error(3)).toMatchObject({ code: 'not_found', message: expect.stringMatching(/^no C2PA manifest/) });
    expect(error(4)).toMatchObject({ code: 'invalid_argument', message: 'declared image/png but the bytes are a JPEG' });
    expect(error(5)?.code).toBe('invalid_argument');
    expect(state(6)).toBe(ValidationState.VALID);

    expect(res.totals).toMatchObject({ total: 7, trusted: 1, valid: 2, invalid: 1, failed: 3 });
    const { total, trusted, valid, invalid, failed } = res.totals!;
    expect(trusted + valid + invalid + failed).toBe(total);
    expect(res.durationMs).toBeGreaterThanOrEqual(0n);
    // Each result is a full Verify answer.
    const first = outcome(0).value as verificationV1.VerifyResponse;
    expect(first).toMatchObject({ registered: true, assetId: signed.assetId, certificateStatus: 'ACTIVE' });
  });

  it('an empty batch is invalid_argument, and the whole batch counts against the size limit', async () => {
    const empty = await t.verification().verifyBatch({ items: [] }).catch((e: unknown) => ConnectError.from(e));
    expect((empty as ConnectError).code).toBe(Code.InvalidArgument);
    const limited = t.verification({ kind: 'API_KEY', id: 'key_batch', projectId: t.projectId, scopes: new Set(['verify']), limits: { maxAssetBytes: 200 * 1024, requestsPerMinute: 600 } });
    const asset = readMedia('C.jpg');
    const copies = Math.ceil((200 * 1024) / asset.length) + 1;
    const err = await limited.verifyBatch({ items: Array.from({ length: copies }, (_, i) => ({ name: `c${i}`, asset })) }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((err as ConnectError).rawMessage).toMatch(/the batch \(\d+ items/);
  });
});
