import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createEngine, planIntent, type C2paEngine, type ClaimSigner, type ManifestStoreReport } from '@c2pa-mesh/engine';
import { createdManifest, flipMediaByte, readMedia } from '@c2pa-mesh/engine/test-support';
import { createTestPki, testClaimSigner, type TestPki } from '@c2pa-mesh/engine/test-support/test-pki';
import { opensslAuthorities, type OpensslAuthorities } from '@c2pa-mesh/engine/test-support/openssl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../../../test/support/cleanup.js';
import { bytesSource, openFileSource } from './byte-source.js';
import { prepareStreamSigning } from './stream-signer.js';
import { verifyFromSource } from './stream-verifier.js';
import { locateManifestStore } from './store-locators.js';

/**
 * The large-asset verifier (the store located in the file, judged by c2pa-rs alone, the hard
 * binding recomputed in pieces) against c2pa-rs reading the whole file, the judge: the same state
 * and the same hard-binding code, for files the streaming writer signed and files c2pa-rs signed
 * (its own placement of the store), untouched and with one media byte changed.
 */

let engine: C2paEngine;
let pki: TestPki;
let openssl: OpensslAuthorities;
let scratch: string;
let signer: ClaimSigner;

beforeAll(async () => {
  engine = createEngine({ threads: 1, warmupBytes: 0 });
  [pki, scratch] = await Promise.all([createTestPki('Stream Verify Test'), mkdtemp(path.join(tmpdir(), 'c2pa-stream-verify-')), engine.warmup()]);
  openssl = await opensslAuthorities(pki);
  signer = testClaimSigner(pki, { timeStamp: (data) => openssl.timeStamp(data), ocspResponses: [await openssl.ocspResponse('good')] });
});

afterAll(() => cleanUp({ engine: () => engine?.close(), openssl: () => openssl?.dispose(), scratch: () => scratch && rm(scratch, { recursive: true, force: true }) }));

const codes = (entries: ManifestStoreReport['errors'] | undefined) => (entries ?? []).map((e) => e.code);
const bindingCodes = (report: ManifestStoreReport | null) => [...codes(report?.errors), ...codes(report?.successes)].filter((c) => /^assertion\.(dataHash|bmffHash)\./.test(c));

async function streamSigned(format: string, original: Uint8Array): Promise<Uint8Array> {
  const manifestDefinition = planIntent(createdManifest('Streamed'), 'create').manifestDefinition;
  const signing = await prepareStreamSigning({ format, source: bytesSource(original), manifestDefinition, signer });
  const chunks: Uint8Array[] = [];
  for await (const chunk of signing.output()) chunks.push(new Uint8Array(chunk));
  return new Uint8Array(Buffer.concat(chunks));
}

async function engineSigned(format: string, original: Uint8Array): Promise<Uint8Array> {
  const signed = await engine.sign({ format, asset: original.slice(), manifestDefinition: createdManifest('By c2pa-rs'), signer });
  return signed.signedAsset;
}

/** The asset verified from a file the way VerifyStream verifies a large one. */
async function verifyFromFile(format: string, asset: Uint8Array, name: string) {
  const file = path.join(scratch, name);
  await writeFile(file, asset);
  const source = await openFileSource(file);
  try {
    return await verifyFromSource(source, format, (store) => engine.read({ format: 'application/c2pa', asset: store, trustAnchorsPem: pki.root.pem }));
  } finally {
    await source.close();
    await rm(file);
  }
}

describe.each([
  ['audio/wav', 'sample1.wav'],
  ['image/jpeg', 'no_manifest.jpg'],
  ['image/webp', 'sample1.webp'],
  ['video/mp4', 'video1_no_manifest.mp4'],
  ['image/avif', 'sample1.avif'],
  ['image/png', 'sample1.png'],
  ['audio/mpeg', 'sample1.mp3'],
])('%s (%s)', (format, file) => {
  it.each([
    ['the streaming writer', streamSigned],
    ['c2pa-rs', engineSigned],
  ])('signed by %s: agrees with c2pa-rs on the whole file, untouched (Trusted) and with one media byte changed (Invalid)', async (_by, sign) => {
    const original = readMedia(file);
    const signed = await sign(format, original);
    for (const [asset, expected] of [[signed, 'Trusted'], [flipMediaByte(original, signed), 'Invalid']] as const) {
      const judge = await engine.read({ format, asset, trustAnchorsPem: pki.root.pem });
      const ours = await verifyFromFile(format, asset, file);
      expect(judge?.validationState).toBe(expected);
      expect(ours?.validationState, JSON.stringify(ours?.errors)).toBe(expected);
      expect(bindingCodes(ours)).toEqual(bindingCodes(judge));
      expect(codes(ours?.errors)).toEqual(codes(judge?.errors));
      expect(ours?.activeManifestLabel).toBe(judge?.activeManifestLabel);
      expect(JSON.parse(ours!.manifestStoreJson).validation_state).toBe(expected);
    }
  });
});

describe('what the large-asset verifier refuses or does not find', () => {
  it('finds no store in an unsigned asset, and refuses a format it cannot locate a store in with failed_precondition', async () => {
    for (const [format, file] of [['audio/wav', 'sample1.wav'], ['image/jpeg', 'no_manifest.jpg'], ['video/mp4', 'video1_no_manifest.mp4'], ['audio/mpeg', 'sample1.mp3']]) {
      expect(await locateManifestStore(bytesSource(readMedia(file)), format)).toBeUndefined();
    }
    // An MP3 without an ID3 tag: no store; something else labelled MP3: invalid_argument.
    expect(await locateManifestStore(bytesSource(readMedia('sample1.mp3').subarray(45)), 'audio/mpeg')).toBeUndefined();
    await expect(locateManifestStore(bytesSource(readMedia('sample1.wav')), 'audio/mpeg')).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(locateManifestStore(bytesSource(readMedia('test.tiff')), 'image/tiff')).rejects.toMatchObject({ code: 'failed_precondition', message: expect.stringContaining('image/tiff') });
  });
});
