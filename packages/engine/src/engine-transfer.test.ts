import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from './engine.js';
import type { C2paEngine } from './types.js';
import { createTestPki, testClaimSigner, type TestPki } from './test-support/test-pki.js';
import { createdManifest, readMedia } from './test-support/media-fixtures.js';

let engine: C2paEngine;
let pki: TestPki;

beforeAll(async () => {
  engine = createEngine({ threads: 1 });
  [pki] = await Promise.all([createTestPki('Transfer Test'), engine.warmup()]);
});
afterAll(async () => {
  await engine.close();
});

describe('transferAsset', () => {
  it("moves a whole buffer to the worker: the caller's copy is detached, the result the same", async () => {
    const asset = new Uint8Array(readMedia('sample1.wav'));
    const length = asset.length;
    const result = await engine.sign({ format: 'audio/wav', asset, manifestDefinition: createdManifest('moved'), signer: testClaimSigner(pki), transferAsset: true });
    expect(asset.byteLength).toBe(0);
    expect(result.signedAsset.length).toBeGreaterThan(length);
    expect((await engine.read({ format: 'audio/wav', asset: result.signedAsset, trustAnchorsPem: pki.root.pem }))?.validationState).toBe('Trusted');
  });

  it("'buffer' moves a view with its whole buffer: every view of it is detached, the result the same", async () => {
    const wav = readMedia('sample1.wav');
    const backing = new Uint8Array(wav.length + 10);
    backing.set(wav, 10);
    const view = backing.subarray(10);
    const result = await engine.sign({ format: 'audio/wav', asset: view, manifestDefinition: createdManifest('moved view'), signer: testClaimSigner(pki), transferAsset: 'buffer' });
    expect(backing.byteLength).toBe(0);
    expect(view.byteLength).toBe(0);
    expect(result.inputSha256).toBeUndefined();
    expect((await engine.read({ format: 'audio/wav', asset: result.signedAsset, trustAnchorsPem: pki.root.pem }))?.validationState).toBe('Trusted');
  });

  it('hashes a moved asset on the worker, as given', async () => {
    const wav = readMedia('sample1.wav');
    const expected = `sha256:${createHash('sha256').update(wav).digest('hex')}`;
    const backing = new Uint8Array(wav.length + 3);
    backing.set(wav, 3);
    const result = await engine.sign({ format: 'audio/wav', asset: backing.subarray(3), manifestDefinition: createdManifest('hashed'), signer: testClaimSigner(pki), transferAsset: 'buffer', hashInput: true });
    expect(backing.byteLength).toBe(0);
    expect(result.inputSha256).toBe(expected);
  });

  it('copies a view of a larger buffer as usual, leaving it intact', async () => {
    const wav = readMedia('sample1.wav');
    const backing = new Uint8Array(wav.length + 10);
    backing.set(wav, 10);
    const view = backing.subarray(10);
    await engine.sign({ format: 'audio/wav', asset: view, manifestDefinition: createdManifest('copied'), signer: testClaimSigner(pki), transferAsset: true });
    expect(view.length).toBe(wav.length);
    expect(Buffer.from(view).equals(Buffer.from(wav))).toBe(true);
  });
});
