import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createEngine, planIntent, type C2paEngine, type ClaimSigner, type ManifestStoreReport } from '@c2pa-mesh/engine';
import { createdManifest, flipMediaByte, readMedia } from '@c2pa-mesh/engine/test-support';
import { judgeWithC2paTs } from '@c2pa-mesh/engine/test-support/c2pa-ts-judge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../../../test/support/cleanup.js';
import { createTestPki, testClaimSigner, type TestPki } from '@c2pa-mesh/engine/test-support/test-pki';
import { opensslAuthorities, type OpensslAuthorities } from '@c2pa-mesh/engine/test-support/openssl';
import { bytesSource, openFileSource, type ByteSource } from './byte-source.js';
import { C2PA_GEOB_MIME_DEPRECATED } from './layouts-mp3.js';
import { prepareStreamSigning } from './stream-signer.js';
import { ONE_PASS_FORMATS, prepareOnePassSigning } from './one-pass-signer.js';

/**
 * The streaming manifest writer judged by independent readers: c2pa-rs (the engine) must read
 * what it writes Trusted with the test root as the only anchor, with the hard binding matched,
 * and Invalid with `assertion.dataHash.mismatch` once one media byte changes; c2pa-ts must find
 * it valid where it reads the format (JPEG).
 */

let engine: C2paEngine;
let pki: TestPki;
let openssl: OpensslAuthorities;
let scratch: string;
let signer: ClaimSigner;

beforeAll(async () => {
  engine = createEngine({ threads: 1, warmupBytes: 0 });
  [pki, scratch] = await Promise.all([createTestPki('Stream Test'), mkdtemp(path.join(tmpdir(), 'c2pa-stream-')), engine.warmup()]);
  openssl = await opensslAuthorities(pki);
  const ocsp = await openssl.ocspResponse('good');
  signer = testClaimSigner(pki, { timeStamp: (data) => openssl.timeStamp(data), ocspResponses: [ocsp] });
});

afterAll(() => cleanUp({ engine: () => engine?.close(), openssl: () => openssl?.dispose(), scratch: () => scratch && rm(scratch, { recursive: true, force: true }) }));

const codes = (entries: ManifestStoreReport['errors'] | undefined) => entries?.map((e) => e.code) ?? [];

/** The definition as the signing service hands it over: checked, with the create intent applied. */
const definition = (extra: Record<string, unknown> = {}) => planIntent(createdManifest('Streamed', extra), 'create').manifestDefinition;

async function signStreaming(format: string, source: ByteSource, manifestDefinition = definition(), chunkBytes?: number) {
  const signing = await prepareStreamSigning({ format, source, manifestDefinition, signer, ...(chunkBytes === undefined ? {} : { chunkBytes }) });
  const chunks: Uint8Array[] = [];
  for await (const chunk of signing.output()) chunks.push(new Uint8Array(chunk));
  const signed = new Uint8Array(Buffer.concat(chunks));
  expect(signed.length).toBe(signing.outputBytes);
  return { signed, result: signing.result() };
}

const BMFF = new Set(['video/mp4', 'audio/mp4', 'video/quicktime', 'video/x-m4v', 'image/avif']);
const hashCode = (format: string, outcome: 'match' | 'mismatch') => `assertion.${BMFF.has(format) ? 'bmffHash' : 'dataHash'}.${outcome}`;

async function expectTrusted(format: string, signed: Uint8Array) {
  const report = await engine.read({ format, asset: signed, trustAnchorsPem: pki.root.pem });
  expect(report?.validationState, JSON.stringify(report?.errors)).toBe('Trusted');
  expect(codes(report?.errors)).toEqual([]);
  expect(codes(report?.successes)).toEqual(
    expect.arrayContaining([hashCode(format, 'match'), 'claimSignature.validated', 'timeStamp.validated', 'timeStamp.trusted', 'signingCredential.ocsp.notRevoked']),
  );
  return report!;
}

async function expectTamperedInvalid(format: string, original: Uint8Array, signed: Uint8Array) {
  const report = await engine.read({ format, asset: flipMediaByte(original, signed), trustAnchorsPem: pki.root.pem });
  expect(report?.validationState).toBe('Invalid');
  expect(codes(report?.errors)).toContain(hashCode(format, 'mismatch'));
}

describe.each([
  ['audio/wav', 'sample1.wav'],
  ['image/jpeg', 'no_manifest.jpg'],
  ['image/webp', 'sample1.webp'],
  ['video/avi', 'video1.avi'],
  ['video/mp4', 'video1_no_manifest.mp4'],
  ['audio/mp4', 'sample1.m4a'],
  ['image/avif', 'sample1.avif'],
  ['video/quicktime', 'video1.mov'],
  ['video/x-m4v', 'video1.m4v'],
  ['image/png', 'sample1.png'],
  ['audio/mpeg', 'sample1.mp3'],
])('%s (%s)', (format, file) => {
  it('reads Trusted in c2pa-rs with the manifest definition intact; one media byte changed reads Invalid', async () => {
    const original = readMedia(file);
    const assetPath = path.join(scratch, file);
    await writeFile(assetPath, original);
    const source = await openFileSource(assetPath);
    try {
      const manifest = definition({
        assertions: [
          { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture' }] } },
          { label: 'stds.schema-org.CreativeWork', data: { '@context': 'https://schema.org', '@type': 'CreativeWork', author: [{ '@type': 'Person', name: 'Ada' }] } },
          { label: 'com.example.shot', data: { lens: '50mm', iso: 400 } },
          { label: 'com.example.notes', kind: 'Json', data: { note: 'json kind' } },
        ],
      });
      // Small pieces, so that every part of the layout is crossed by a piece boundary.
      const { signed, result } = await signStreaming(format, source, manifest, 4099);
      const report = await expectTrusted(format, signed);
      expect(report.activeManifestLabel).toBe(result.manifestLabel);
      expect(report.title).toBe('Streamed');
      expect(report.claimGenerator).toContain('c2pa-mesh-engine-test');
      const store = JSON.parse(report.manifestStoreJson) as { manifests: Record<string, { assertions: Array<{ label: string; data: unknown }> }> };
      const assertions = store.manifests[result.manifestLabel].assertions;
      // c2pa-rs lists a BMFF hash among the assertions, a data hash not.
      expect(assertions.map((a) => a.label).filter((label) => !label.startsWith('c2pa.hash.'))).toEqual(['c2pa.actions.v2', 'stds.schema-org.CreativeWork', 'com.example.shot', 'com.example.notes']);
      expect(assertions.find((a) => a.label === 'com.example.shot')?.data).toEqual({ lens: '50mm', iso: 400 });
      await expectTamperedInvalid(format, original, signed);
    } finally {
      await source.close();
    }
  });
});

/**
 * The one-pass signer given the asset in uneven pieces (1 to 40 bytes, then larger), so that every
 * header is split: what it sends, then its store, reads Trusted, and its hard binding is the one
 * the spooled path computes from the whole file.
 */
async function signInOnePass(format: string, asset: Uint8Array) {
  const signing = prepareOnePassSigning({ format, manifestDefinition: definition(), signer });
  const out: Uint8Array[] = [];
  let sent = 0;
  for (let at = 0, step = 1; at < asset.length; at += step, step = step < 40 ? step + 1 : 4093) {
    signing.update(asset.subarray(at, at + step));
    if (signing.ready > sent) {
      out.push(signing.outputAt(asset.subarray(sent, signing.ready), sent));
      sent = signing.ready;
    }
  }
  const { store, result } = await signing.finish();
  return { signed: new Uint8Array(Buffer.concat([...out, store])), result };
}

describe.each([
  ['audio/wav', 'sample1.wav'],
  ['image/webp', 'sample1.webp'],
  ['video/avi', 'video1.avi'],
  ['video/mp4', 'video1_no_manifest.mp4'],
  ['audio/mp4', 'sample1.m4a'],
  ['image/avif', 'sample1.avif'],
  ['video/quicktime', 'video1.mov'],
  ['video/x-m4v', 'video1.m4v'],
])('%s (%s) signed in one pass as it arrives', (format, file) => {
  it('reads Trusted in c2pa-rs with the binding the spooled path computes; one media byte changed reads Invalid', async () => {
    expect(ONE_PASS_FORMATS).toContain(format);
    const original = readMedia(file);
    const { signed, result } = await signInOnePass(format, original);
    expect(result.signedAssetBytes).toBe(signed.length);
    expect(result.signedAssetSha256).toBe(`sha256:${createHash('sha256').update(signed).digest('hex')}`);
    const report = await expectTrusted(format, signed);
    expect(report.activeManifestLabel).toBe(result.manifestLabel);
    const spooled = await signStreaming(format, bytesSource(original));
    expect(signed.length).toBe(spooled.signed.length);
    expect(result.binding.data.get('hash')).toEqual(spooled.result.binding.data.get('hash'));
    expect(result.binding.data.get('exclusions')).toEqual(spooled.result.binding.data.get('exclusions'));
    await expectTamperedInvalid(format, original, signed);
  });
});

describe('what the one-pass signer refuses', () => {
  const feed = async (format: string, asset: Uint8Array, step = 1000) => {
    const signing = prepareOnePassSigning({ format, manifestDefinition: definition(), signer });
    for (let at = 0; at < asset.length; at += step) signing.update(asset.subarray(at, at + step));
    return signing.finish();
  };
  it('refuses a signed asset with failed_precondition, a truncated or overlong one with invalid_argument', async () => {
    const wav = readMedia('sample1.wav');
    const mp4 = readMedia('video1_no_manifest.mp4');
    for (const [format, asset] of [['audio/wav', wav], ['video/mp4', mp4]] as const) {
      const { signed } = await signInOnePass(format, asset);
      await expect(feed(format, signed, 7)).rejects.toMatchObject({ code: 'failed_precondition', message: expect.stringContaining('already carries a C2PA manifest') });
      await expect(feed(format, asset.subarray(0, asset.length - 3))).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/runs past the end|truncated/) });
    }
    await expect(feed('audio/wav', Buffer.concat([wav, new Uint8Array(4)]))).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('trailing data') });
    await expect(feed('video/mp4', wav)).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('does not start with an ftyp box') });
    await expect(feed('audio/wav', mp4)).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('not a RIFF file') });
  });
});

describe('JPEG judged by c2pa-ts', () => {
  it('is valid with the data hash matched, also when the store spans several APP11 segments', async () => {
    const original = readMedia('no_manifest.jpg');
    for (const manifest of [definition(), definition({ assertions: [
      { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture' }] } },
      { label: 'com.example.large', data: { blob: 'x'.repeat(150_000) } },
    ] })]) {
      const { signed, result } = await signStreaming('image/jpeg', bytesSource(original), manifest);
      await expectTrusted('image/jpeg', signed);
      const verdict = await judgeWithC2paTs(signed);
      expect(verdict.explained).toEqual([]);
      expect(verdict.valid).toBe(true);
      expect(verdict.successes).toEqual(expect.arrayContaining(['assertion.dataHash.match', 'claimSignature.validated', 'timeStamp.trusted']));
      expect(result.signedAssetBytes).toBe(signed.length);
    }
  });
});

describe('PNG judged by c2pa-ts', () => {
  it('is valid with the data hash matched, the store in a caBX chunk after IHDR', async () => {
    const { signed } = await signStreaming('image/png', bytesSource(readMedia('sample1.png')), definition(), 65_536);
    await expectTrusted('image/png', signed);
    const verdict = await judgeWithC2paTs(signed);
    expect(verdict.explained).toEqual([]);
    expect(verdict.valid).toBe(true);
    expect(verdict.successes).toEqual(expect.arrayContaining(['assertion.dataHash.match', 'claimSignature.validated', 'timeStamp.trusted']));
  });
});

describe('AVIF judged by c2pa-ts (which reads HEIF-branded BMFF, not MP4)', () => {
  it('is valid with the BMFF hash matched, the manifest box after the last box', async () => {
    const { signed } = await signStreaming('image/avif', bytesSource(readMedia('sample1.avif')), definition(), 65_536);
    await expectTrusted('image/avif', signed);
    const verdict = await judgeWithC2paTs(signed);
    expect(verdict.explained).toEqual([]);
    expect(verdict.valid).toBe(true);
    expect(verdict.successes).toEqual(expect.arrayContaining(['assertion.bmffHash.match', 'claimSignature.validated', 'timeStamp.trusted']));
  });
});

describe('what the streaming path refuses', () => {
  it('refuses an asset that already carries a manifest, and features it cannot write, with failed_precondition', async () => {
    const { signed } = await signStreaming('audio/wav', bytesSource(readMedia('sample1.wav')));
    await expect(prepareStreamSigning({ format: 'audio/wav', source: bytesSource(signed), manifestDefinition: definition(), signer })).rejects.toMatchObject({
      code: 'failed_precondition',
      message: expect.stringContaining('already carries a C2PA manifest'),
    });
    const jpeg = await signStreaming('image/jpeg', bytesSource(readMedia('no_manifest.jpg')));
    await expect(prepareStreamSigning({ format: 'image/jpeg', source: bytesSource(jpeg.signed), manifestDefinition: definition(), signer })).rejects.toMatchObject({ code: 'failed_precondition' });
    for (const extra of [
      { ingredients: [{ title: 'x', relationship: 'componentOf' }] },
      { thumbnail: { format: 'image/jpeg', identifier: 't' } },
      { vendor: 'acme' },
      { assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture' }] } }, { label: 'c2pa.thumbnail.claim.jpeg', data: {} }] },
    ]) {
      await expect(prepareStreamSigning({ format: 'audio/wav', source: bytesSource(readMedia('sample1.wav')), manifestDefinition: JSON.stringify({ ...JSON.parse(definition()), ...extra }), signer })).rejects.toMatchObject({
        code: 'failed_precondition',
        message: expect.stringContaining('streaming signer'),
      });
    }
    await expect(prepareStreamSigning({ format: 'image/gif', source: bytesSource(readMedia('sample1.gif')), manifestDefinition: definition(), signer })).rejects.toMatchObject({ code: 'failed_precondition' });
    const png = await signStreaming('image/png', bytesSource(readMedia('sample1.png')));
    await expect(prepareStreamSigning({ format: 'image/png', source: bytesSource(png.signed), manifestDefinition: definition(), signer })).rejects.toMatchObject({ code: 'failed_precondition' });
  });

  it('refuses a RIFF file whose header does not match its length with invalid_argument', async () => {
    const wav = readMedia('sample1.wav');
    await expect(prepareStreamSigning({ format: 'audio/wav', source: bytesSource(wav.subarray(0, wav.length - 3)), manifestDefinition: definition(), signer })).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

// --- MP3 ----------------------------------------------------------------------------------

/** `sample1.mp3`: an ID3v2.4 tag (a TSSE frame, 10 bytes of padding), then MPEG audio frames. */
const MP3_TAG_END = 45;

const synchsafe = (n: number) => [(n >>> 21) & 0x7f, (n >>> 14) & 0x7f, (n >>> 7) & 0x7f, n & 0x7f];
const latin1 = (text: string) => [...Buffer.from(text, 'latin1')];

/** An ID3v2 frame: v2.2 (3-character id, 24-bit size), v2.3 (32-bit size), v2.4 (synchsafe size). */
function id3Frame(major: 2 | 3 | 4, id: string, content: number[], flags = 0): Uint8Array {
  if (major === 2) return Uint8Array.from([...latin1(id), content.length >>> 16, (content.length >>> 8) & 0xff, content.length & 0xff, ...content]);
  const size = major === 4 ? synchsafe(content.length) : [content.length >>> 24, (content.length >>> 16) & 0xff, (content.length >>> 8) & 0xff, content.length & 0xff];
  return Uint8Array.from([...latin1(id), ...size, flags >>> 8, flags & 0xff, ...content]);
}

/** An ID3v2 tag of these frames, then the audio of sample1.mp3. */
function mp3With(major: 2 | 3 | 4, frames: Uint8Array[], options: { flags?: number; extendedHeader?: number[]; padding?: number } = {}): Uint8Array {
  const body = Buffer.concat([Uint8Array.from(options.extendedHeader ?? []), ...frames, new Uint8Array(options.padding ?? 0)]);
  const header = Uint8Array.from([...latin1('ID3'), major, 0, options.flags ?? 0, ...synchsafe(body.length)]);
  return new Uint8Array(Buffer.concat([header, body, readMedia('sample1.mp3').subarray(MP3_TAG_END)]));
}

const textFrame = (major: 2 | 3 | 4, id: string, text: string) => id3Frame(major, id, [0, ...latin1(text)]);
const geob = (major: 2 | 3 | 4, mime: string, data: number[]) => id3Frame(major, major === 2 ? 'GEO' : 'GEOB', [0, ...latin1(mime), 0, ...latin1('f.bin'), 0, ...latin1('other object'), 0, ...data]);

describe('MP3: the store in an ID3v2 GEOB frame, as c2pa-rs embeds it', () => {
  it('writes a new ID3v2.4 tag into an MP3 without one, laid out as c2pa-rs writes it, the exclusion the store alone', async () => {
    const audio = readMedia('sample1.mp3').subarray(MP3_TAG_END);
    expect([audio[0], audio[1] & 0xe0]).toEqual([0xff, 0xe0]);
    const { signed, result } = await signStreaming('audio/mpeg', bytesSource(audio), definition(), 65_536);
    await expectTrusted('audio/mpeg', signed);
    await expectTamperedInvalid('audio/mpeg', audio, signed);
    // The tag, the GEOB frame's header and fields, the store, then the audio unchanged.
    const storeAt = Buffer.from(signed).indexOf(Buffer.from(result.manifestStore));
    expect(Buffer.from(signed.subarray(storeAt + result.manifestStore.length)).equals(Buffer.from(audio))).toBe(true);
    expect(latin1ToString(signed.subarray(0, 4))).toBe('ID3\u0004');
    const byEngine = (await engine.sign({ format: 'audio/mpeg', asset: audio.slice(), manifestDefinition: createdManifest('By c2pa-rs'), signer })).signedAsset;
    // Past the sizes, c2pa-rs's frame has the same flags, encoding, MIME type, file name and description.
    expect(Buffer.from(signed.subarray(18, storeAt)).equals(Buffer.from(byEngine.subarray(18, storeAt)))).toBe(true);
    expect(latin1ToString(signed.subarray(10, storeAt))).toContain('GEOB');
    expect(latin1ToString(signed.subarray(10, storeAt))).toContain('application/c2pa\u0000c2pa\u0000c2pa manifest store\u0000');
    // The data hash excludes the store alone, where it is.
    const exclusions = (result.binding.data as Map<string, unknown>).get('exclusions') as Array<Map<string, number>>;
    expect(exclusions.map((e) => [e.get('start'), e.get('length')])).toEqual([[storeAt, result.manifestStore.length]]);
  });

  it.each([
    [3, 'ID3v2.3, an extended header (dropped), another GEOB object and padding'],
    [4, 'ID3v2.4, an extended header (dropped), another GEOB object and padding'],
    [2, 'ID3v2.2'],
  ] as const)('keeps the frames of an existing tag byte for byte: %s (%s)', async (major, _what) => {
    const frames = [textFrame(major, major === 2 ? 'TT2' : 'TIT2', 'A title kept'), geob(major, 'application/octet-stream', [1, 2, 3, 0, 4]), textFrame(major, major === 2 ? 'TSS' : 'TSSE', 'Lavf57.83.100')];
    const extendedHeader = major === 3 ? [0, 0, 0, 6, 0, 0, 0, 0, 0, 0] : major === 4 ? [...synchsafe(6), 1, 0] : undefined;
    const original = mp3With(major, frames, { padding: major === 2 ? 0 : 32, ...(extendedHeader === undefined ? {} : { flags: 0x40, extendedHeader }) });
    const { signed, result } = await signStreaming('audio/mpeg', bytesSource(original), definition(), 4099);
    await expectTrusted('audio/mpeg', signed);
    await expectTamperedInvalid('audio/mpeg', original, signed);
    expect([...signed.subarray(0, 6)]).toEqual([0x49, 0x44, 0x33, major, 0, 0]);
    const kept = Buffer.concat(frames);
    expect(Buffer.from(signed.subarray(10, 10 + kept.length)).equals(kept)).toBe(true);
    const storeAt = Buffer.from(signed).indexOf(Buffer.from(result.manifestStore));
    expect(latin1ToString(signed.subarray(10 + kept.length, storeAt))).toMatch(new RegExp(`^${major === 2 ? 'GEO' : 'GEOB'}[^]*application/c2pa\u0000c2pa\u0000c2pa manifest store\u0000$`));
  });

  it('rewrites the footer of an ID3v2.4 tag that has one, with the tag\'s new size', async () => {
    const frames = [textFrame(4, 'TIT2', 'With a footer')];
    const tagged = mp3With(4, frames, { flags: 0x10 });
    const footer = Uint8Array.from([...latin1('3DI'), ...tagged.subarray(3, 10)]);
    const original = new Uint8Array(Buffer.concat([tagged.subarray(0, 10 + frames[0].length), footer, tagged.subarray(10 + frames[0].length)]));
    const { signed } = await signStreaming('audio/mpeg', bytesSource(original), definition(), 4099);
    await expectTrusted('audio/mpeg', signed);
    const tagEnd = 10 + ((signed[6] << 21) | (signed[7] << 14) | (signed[8] << 7) | signed[9]);
    expect([...signed.subarray(tagEnd, tagEnd + 10)]).toEqual([...latin1('3DI'), ...signed.subarray(3, 10)]);
    expect(Buffer.from(signed.subarray(tagEnd + 10)).equals(Buffer.from(original.subarray(10 + frames[0].length + 10)))).toBe(true);
  });

  it('refuses an MP3 that already carries a C2PA store (either MIME type, written here or by c2pa-rs) with failed_precondition', async () => {
    const mp3 = readMedia('sample1.mp3');
    const ours = (await signStreaming('audio/mpeg', bytesSource(mp3))).signed;
    const byEngine = (await engine.sign({ format: 'audio/mpeg', asset: mp3.slice(), manifestDefinition: createdManifest('By c2pa-rs'), signer })).signedAsset;
    const older = mp3With(3, [textFrame(3, 'TIT2', 'x'), geob(3, C2PA_GEOB_MIME_DEPRECATED, [0, 0, 0, 8, 0x6a, 0x75, 0x6d, 0x62])]);
    for (const signed of [ours, byEngine, older]) {
      await expect(prepareStreamSigning({ format: 'audio/mpeg', source: bytesSource(signed), manifestDefinition: definition(), signer })).rejects.toMatchObject({
        code: 'failed_precondition',
        message: expect.stringContaining('already carries a C2PA manifest'),
      });
    }
  });

  it('refuses tags c2pa-rs could not read back with failed_precondition, and what is not an MP3 with invalid_argument', async () => {
    const refused = (asset: Uint8Array) => prepareStreamSigning({ format: 'audio/mpeg', source: bytesSource(asset), manifestDefinition: definition(), signer });
    await expect(refused(mp3With(4, [textFrame(4, 'TIT2', 'x')], { flags: 0x80 }))).rejects.toMatchObject({ code: 'failed_precondition', message: expect.stringContaining('unsynchronised') });
    await expect(refused(mp3With(3, [id3Frame(3, 'TIT2', [1, 0, 65], 0x0040)]))).rejects.toMatchObject({ code: 'failed_precondition', message: expect.stringContaining('encrypted') });
    await expect(refused(readMedia('sample1.wav'))).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('not an MP3') });
    const overrun = mp3With(4, [textFrame(4, 'TIT2', 'x')]);
    overrun[17] = 0x7f; // the frame's size now runs past the tag
    await expect(refused(overrun)).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('runs past the end of the tag') });
    const truncated = mp3With(4, [textFrame(4, 'TIT2', 'x')]).subarray(0, 14);
    await expect(refused(truncated)).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

function latin1ToString(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('latin1');
}
