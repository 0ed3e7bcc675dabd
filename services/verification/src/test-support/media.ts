import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared media fixtures, and variants made from them at test time. */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const MEDIA_DIR = path.resolve(repoRoot, '../shared/fixtures/media');

export const readMedia = (file: string): Uint8Array => new Uint8Array(readFileSync(path.join(MEDIA_DIR, file)));

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

/** Every fixture, signed or not. */
export const ALL_FIXTURES = [...UNSIGNED_SAMPLES, { file: 'C.jpg', format: 'image/jpeg' }, { file: 'XCA.jpg', format: 'image/jpeg' }] as const;

export const TRAINED_ALGORITHMIC_MEDIA = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

/** A manifest as an AI image generator sends it: created, with its digital source type. */
export function createdManifest(title: string): string {
  return JSON.stringify({
    title,
    claim_generator_info: [{ name: 'c2pa-mesh-verification-test', version: '1.0.0' }],
    assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA }] } }],
  });
}

/**
 * Flips one bit of media data in a signed asset: a byte inside a window of the original that
 * survives unchanged in the signed file (content, not manifest), away from 0xFF so no JPEG marker
 * appears or disappears.
 */
export function flipMediaByte(original: Uint8Array, signed: Uint8Array): Uint8Array {
  const signedBuffer = Buffer.from(signed.buffer, signed.byteOffset, signed.byteLength);
  for (const fraction of [0.6, 0.7, 0.5, 0.8, 0.4]) {
    const start = Math.floor(original.length * fraction);
    const at = signedBuffer.indexOf(original.subarray(start, start + 64));
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

/** A small deterministic PRNG (mulberry32): hostile variants are the same on every run. */
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
