import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared media fixtures, and manifests and variants made from them at test time. */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const mediaDir = path.resolve(repoRoot, 'test/fixtures/media');

export const readMedia = (file: string): Uint8Array => new Uint8Array(readFileSync(path.join(mediaDir, file)));

/** The ten formats users sign most, one unsigned sample each. */
export const UNSIGNED_SAMPLES = [
  { file: 'no_manifest.jpg', format: 'image/jpeg' },
  { file: 'sample1.png', format: 'image/png' },
  { file: 'sample1.webp', format: 'image/webp' },
  { file: 'test.tiff', format: 'image/tiff' },
  { file: 'sample1.avif', format: 'image/avif' },
  { file: 'video1_no_manifest.mp4', format: 'video/mp4' },
  { file: 'sample1.mp3', format: 'audio/mpeg' },
  { file: 'sample1.wav', format: 'audio/wav' },
  { file: 'sample1.flac', format: 'audio/flac' },
  { file: 'sample1.m4a', format: 'audio/mp4' },
] as const;

export const TRAINED_ALGORITHMIC_MEDIA = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

/** A manifest as an AI image generator would send it: created, with its digital source type. */
export function createdManifest(title: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    title,
    claim_generator_info: [{ name: 'c2pa-mesh-engine-test', version: '1.0.0' }],
    assertions: [
      { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA }] } },
      { label: 'stds.schema-org.CreativeWork', data: { '@context': 'https://schema.org', '@type': 'CreativeWork', author: [{ '@type': 'Person', name: 'Test Author' }] } },
    ],
    ...extra,
  });
}

/**
 * Flips one bit of media data in a signed asset: a byte well inside a window of the original
 * asset that survives unchanged in the signed one (so it is content, not the manifest), and not
 * next to a 0xFF (so no JPEG marker appears or disappears).
 */
export function flipMediaByte(original: Uint8Array, signed: Uint8Array): Uint8Array {
  const signedBuffer = Buffer.from(signed.buffer, signed.byteOffset, signed.byteLength);
  for (const fraction of [0.6, 0.7, 0.5, 0.8, 0.4]) {
    const start = Math.floor(original.length * fraction);
    const window = original.subarray(start, start + 64);
    const at = signedBuffer.indexOf(window);
    if (at < 0) continue;
    for (let i = at + 16; i < at + 48; i++) {
      if (signed[i - 1] !== 0xff && signed[i] < 0xfe && signed[i + 1] !== 0xff) {
        const altered = signed.slice();
        altered[i] ^= 0x01;
        return altered;
      }
    }
  }
  throw new Error('no unchanged media window found in the signed asset');
}

/** A small deterministic PRNG (mulberry32) so hostile-input tests are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const riffChunk = (id: string, data: Buffer) => {
  const header = Buffer.alloc(8);
  header.write(id, 'latin1');
  header.writeUInt32LE(data.length, 4);
  return Buffer.concat([header, data, Buffer.alloc(data.length % 2)]);
};
const bmffBox = (type: string, data: Buffer) => {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + data.length);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, data]);
};

/**
 * Small assets made in code for the formats beyond the ten fixtures: a 1×1 GIF, an SVG, a minimal
 * AVI (RIFF with hdrl and movi lists), a JPEG XL container (signature box, ftyp, codestream), and
 * the fixtures under the other names of their containers (QuickTime, M4V, HEIC, HEIF, DNG).
 */
export function moreSignableSamples(): Array<{ format: string; asset: Uint8Array }> {
  const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
  const svg = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="red"/></svg>\n');
  const aviBody = Buffer.concat([
    Buffer.from('AVI '),
    riffChunk('LIST', Buffer.concat([Buffer.from('hdrl'), riffChunk('avih', Buffer.alloc(56))])),
    riffChunk('LIST', Buffer.concat([Buffer.from('movi'), riffChunk('00dc', Buffer.alloc(100, 7))])),
  ]);
  const avi = Buffer.concat([Buffer.from('RIFF'), Buffer.from(new Uint32Array([aviBody.length]).buffer), aviBody]);
  const jxl = Buffer.concat([
    Buffer.from([0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a]),
    bmffBox('ftyp', Buffer.concat([Buffer.from('jxl '), Buffer.alloc(4), Buffer.from('jxl ')])),
    bmffBox('jxlc', Buffer.from([0xff, 0x0a, 0xfa, 0x1f, 0x01, 0x00, 0x00, 0x00])),
  ]);
  return [
    { format: 'image/gif', asset: new Uint8Array(gif) },
    { format: 'image/svg+xml', asset: new Uint8Array(svg) },
    { format: 'video/avi', asset: new Uint8Array(avi) },
    { format: 'image/jxl', asset: new Uint8Array(jxl) },
    { format: 'video/quicktime', asset: readMedia('video1_no_manifest.mp4') },
    { format: 'video/x-m4v', asset: readMedia('video1_no_manifest.mp4') },
    { format: 'image/heic', asset: readMedia('sample1.avif') },
    { format: 'image/heif', asset: readMedia('sample1.avif') },
    { format: 'image/x-adobe-dng', asset: readMedia('test.tiff') },
  ];
}
