import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The media fixtures, and manifests and variants made from them at test time. */

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

/**
 * One real, unsigned file of each further format c2pa-rs signs (made for this repository; see
 * test/fixtures/media/README.md). A HEIC file is also what `.heif` files usually hold, so it
 * stands for image/heif too.
 */
export const MORE_SAMPLES = [
  { file: 'sample1.heic', format: 'image/heic' },
  { file: 'sample1.heic', format: 'image/heif' },
  { file: 'video1.mov', format: 'video/quicktime' },
  { file: 'video1.m4v', format: 'video/x-m4v' },
  { file: 'sample1.dng', format: 'image/x-adobe-dng' },
  { file: 'sample1.gif', format: 'image/gif' },
  { file: 'sample1.svg', format: 'image/svg+xml' },
  { file: 'video1.avi', format: 'video/avi' },
  { file: 'sample1.jxl', format: 'image/jxl' },
  { file: 'sample1.pdf', format: 'application/pdf' },
] as const;

/** Formats whose hard binding is a BMFF hash in c2pa-rs 0.91; every other one has a data hash. */
const BMFF_FORMATS = new Set(['video/mp4', 'audio/mp4', 'image/avif', 'image/heic', 'image/heif', 'video/quicktime', 'video/x-m4v']);

/** The hard-binding mismatch c2pa-rs reports when media data changes, per container. */
export const hashMismatchCode = (format: string) => (BMFF_FORMATS.has(format) ? 'assertion.bmffHash.mismatch' : 'assertion.dataHash.mismatch');
