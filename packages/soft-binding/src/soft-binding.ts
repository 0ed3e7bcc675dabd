import { invalidArgument } from '@c2pa-mesh/errors';
import { FINGERPRINTED_IMAGE_FORMATS, ISCC_IMAGE_BITS, ISCC_IMAGE_HEADER, isccBytes, isccImageCode, isccText } from './iscc-image.js';

/** The one soft-binding algorithm the mesh computes, by its name in the C2PA list. */
export const ISCC_ALG = 'io.iscc.v0';
export const SOFT_BINDING_LABEL = 'c2pa.soft-binding';

/**
 * Matches are fingerprints at most this many bits (of 64) apart: similarity 0.84 or more. A JPEG
 * re-encoded, resized or stripped of metadata stays within a few bits of its original; unrelated
 * photographs are about 32 bits apart.
 */
export const MAX_MATCH_DISTANCE = 10;
export const DEFAULT_MAX_RESULTS = 10;
export const MAX_RESULTS_LIMIT = 100;

export interface Fingerprint {
  alg: typeof ISCC_ALG;
  /** The ISCC Image-Code: 2-byte header, 8-byte body. */
  value: Uint8Array;
}

/** Whether the mesh fingerprints this format (images only; audio and video are not). */
export function isFingerprinted(format: string): boolean {
  return FINGERPRINTED_IMAGE_FORMATS.includes(format.toLowerCase());
}

/** The fingerprint of an encoded image; rejects (invalid_argument) when it cannot be decoded. */
export async function fingerprintImage(image: Uint8Array): Promise<Fingerprint> {
  try {
    return { alg: ISCC_ALG, value: await isccImageCode(image) };
  } catch (cause) {
    throw invalidArgument('the image could not be decoded to compute its fingerprint; send a JPEG, PNG, WebP, TIFF, AVIF or GIF image', { cause });
  }
}

/**
 * The fingerprint to sign into an asset: undefined for formats that are not fingerprinted, and for
 * images the decoder cannot read (c2pa-rs signs some that libvips does not decode, such as HEIC
 * with HEVC): such an asset is signed without a soft binding.
 */
export async function signingFingerprint(format: string, asset: Uint8Array): Promise<Fingerprint | undefined> {
  if (!isFingerprinted(format)) return undefined;
  return fingerprintImage(asset).catch(() => undefined);
}

/** `ISCC:EEA…`. */
export const fingerprintText = (fingerprint: Fingerprint): string => isccText(fingerprint.value);

/**
 * The `c2pa.soft-binding` assertion (C2PA 2.x, 18.x "Soft binding"): the algorithm, one block over
 * the whole asset (empty scope) whose value is the base64 of the ISCC-CODE bytes. c2pa-rs reads
 * `value` as text, so the bytes travel base64-encoded, as the Soft Binding Resolution API sends them.
 */
export function softBindingAssertion(fingerprint: Fingerprint) {
  return {
    label: SOFT_BINDING_LABEL,
    data: {
      alg: fingerprint.alg,
      blocks: [{ scope: {}, value: Buffer.from(fingerprint.value).toString('base64') }],
      pad: [],
    },
  };
}

/** The manifest definition (JSON text) with the soft-binding assertion added. */
export function withSoftBindingAssertion(manifestJson: string, fingerprint: Fingerprint): string {
  const definition = JSON.parse(manifestJson) as { assertions?: unknown[] };
  const assertions = Array.isArray(definition.assertions) ? definition.assertions : [];
  definition.assertions = [...assertions, softBindingAssertion(fingerprint)];
  return JSON.stringify(definition);
}

/**
 * A soft-binding value as a caller sends it (`/matches/byBinding`): base64 of the ISCC-CODE (10
 * bytes) or of its 8-byte body, or the `ISCC:…` text itself. Anything else is invalid_argument.
 */
export function parseBindingValue(alg: string, value: string): Fingerprint {
  if (alg !== ISCC_ALG) throw invalidArgument(`soft-binding algorithm "${alg}" is not supported; this service supports ${ISCC_ALG}`, { details: { field: 'alg' } });
  const trimmed = value.trim();
  let bytes = /^ISCC:/i.test(trimmed) ? isccBytes(trimmed) : undefined;
  if (bytes === undefined && /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) bytes = new Uint8Array(Buffer.from(trimmed, 'base64'));
  if (bytes?.length === 8) bytes = Uint8Array.from([...ISCC_IMAGE_HEADER, ...bytes]);
  if (bytes === undefined || bytes.length !== 10 || bytes[0] !== ISCC_IMAGE_HEADER[0] || bytes[1] !== ISCC_IMAGE_HEADER[1]) {
    throw invalidArgument(`value must be an ISCC Image-Code of ${ISCC_IMAGE_BITS} bits: "ISCC:EEA…" or the base64 of its 10 bytes`, { details: { field: 'value' } });
  }
  return { alg: ISCC_ALG, value: bytes };
}

/** The 64-bit body as a signed 64-bit integer (how the registry stores it). */
export function fingerprintInt64(fingerprint: Fingerprint): bigint {
  return Buffer.from(fingerprint.value.subarray(2, 10)).readBigInt64BE(0);
}

/** The body's four 16-bit quarters (the lookup bands), most significant first. */
export function fingerprintBands(fingerprint: Fingerprint): number[] {
  const v = fingerprint.value;
  return [0, 1, 2, 3].map((i) => (v[2 + 2 * i] << 8) | v[3 + 2 * i]);
}

/** Bits a band may differ by and still be probed: 4 bands × (2 + 1) − 1 = 11 bits found for sure. */
export const BAND_PROBE_RADIUS = 2;

/**
 * For each quarter of the query, the values to look up: itself and every value within
 * BAND_PROBE_RADIUS bits (1 + 16 + 120 = 137). A fingerprint at most 11 bits away differs from
 * the query in at most 2 bits in one of the four quarters, so this finds every match within
 * MAX_MATCH_DISTANCE (multi-index hashing, Norouzi et al.).
 */
export function bandProbes(fingerprint: Fingerprint): number[][] {
  return fingerprintBands(fingerprint).map((band) => {
    const values = [band];
    for (let i = 0; i < 16; i++) {
      values.push(band ^ (1 << i));
      for (let j = i + 1; j < 16; j++) values.push(band ^ (1 << i) ^ (1 << j));
    }
    return values;
  });
}

/** Similarity in [0, 1] of two fingerprints this many bits apart. */
export const similarityOf = (distance: number): number => 1 - distance / ISCC_IMAGE_BITS;

/** Bits that differ between two fingerprints' bodies. */
export function hammingDistance(a: Fingerprint, b: Fingerprint): number {
  let distance = 0;
  for (let i = 2; i < 10; i++) {
    let x = a.value[i] ^ b.value[i];
    while (x !== 0) {
      x &= x - 1;
      distance++;
    }
  }
  return distance;
}
