import sharp from 'sharp';

/**
 * The ISCC Image-Code, version 0 (ISO 24138; `io.iscc.v0` in the C2PA soft-binding algorithm
 * list): a 64-bit perceptual hash of the decoded pixels, prefixed by the 2-byte ISCC header.
 *
 * Written here because no maintained JavaScript package computes it (the reference is the Python
 * `iscc-core`). The steps are those of iscc-core's `image_normalize` and `soft_hash_image_v0`:
 * orientation applied, transparency filled with white, uniform border trimmed, reduced to 32×32,
 * converted to luma (ITU-R 601), a 2-D DCT-II (unscaled), the top-left 8×8 coefficients compared
 * with their median (bit = coefficient > median), row by row. The pixels are decoded and reduced
 * by libvips (sharp) instead of Pillow, so a code may differ from iscc-core's in a few bits; codes
 * are compared by Hamming distance, which such differences barely move.
 */

/** ISCC header: MainType CONTENT (2), SubType IMAGE (1), version 0, length 64 bits (1). */
export const ISCC_IMAGE_HEADER = Uint8Array.of(0x21, 0x01);
export const ISCC_IMAGE_BITS = 64;

/** Decoding refuses larger images before any pixel work (about 100 megapixels). */
const MAX_INPUT_PIXELS = 100_000_000;
const SIDE = 32;

/** Image MIME types sharp's prebuilt libvips decodes. */
export const FINGERPRINTED_IMAGE_FORMATS: readonly string[] = ['image/jpeg', 'image/png', 'image/webp', 'image/tiff', 'image/avif', 'image/gif', 'image/heic', 'image/heif'];

const COSINES: Float64Array = (() => {
  const table = new Float64Array(SIDE * SIDE);
  for (let k = 0; k < SIDE; k++) for (let n = 0; n < SIDE; n++) table[k * SIDE + n] = Math.cos((Math.PI / SIDE) * (n + 0.5) * k);
  return table;
})();

/** Unscaled DCT-II of `input` (length 32), as iscc-core's `algo_dct`; only the first `keep` outputs. */
function dct(input: Float64Array, keep: number): Float64Array {
  const out = new Float64Array(keep);
  for (let k = 0; k < keep; k++) {
    let sum = 0;
    for (let n = 0; n < SIDE; n++) sum += input[n] * COSINES[k * SIDE + n];
    out[k] = sum;
  }
  return out;
}

/** The 32×32 luma values, row by row. */
async function normalizedPixels(image: Uint8Array): Promise<Float64Array> {
  const reduce = (trim: boolean) => {
    let pipeline = sharp(image, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error', pages: 1 }).rotate();
    if (trim) pipeline = pipeline.trim({ threshold: 10 });
    return pipeline
      .flatten({ background: '#ffffff' })
      .resize(SIDE, SIDE, { fit: 'fill', kernel: 'cubic' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  };
  // An image that is all border (one colour) has nothing left to trim to: hash it whole.
  const { data, info } = await reduce(true).catch(() => reduce(false));
  const channels = info.channels;
  const luma = new Float64Array(SIDE * SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) {
    const r = data[i * channels];
    const g = channels >= 3 ? data[i * channels + 1] : r;
    const b = channels >= 3 ? data[i * channels + 2] : r;
    luma[i] = Math.floor((r * 299 + g * 587 + b * 114) / 1000);
  }
  return luma;
}

/** The 8-byte body of the Image-Code from 32×32 luma values. */
export function imageSoftHash(pixels: Float64Array): Uint8Array {
  // Rows first, then the columns of the result; only the 8 lowest frequencies are kept each way.
  const rows: Float64Array[] = [];
  for (let y = 0; y < SIDE; y++) rows.push(dct(pixels.subarray(y * SIDE, (y + 1) * SIDE), SIDE));
  const coefficients = new Float64Array(64);
  const column = new Float64Array(SIDE);
  for (let x = 0; x < 8; x++) {
    for (let y = 0; y < SIDE; y++) column[y] = rows[y][x];
    const transformed = dct(column, 8);
    for (let y = 0; y < 8; y++) coefficients[y * 8 + x] = transformed[y];
  }
  const sorted = Array.from(coefficients).sort((a, b) => a - b);
  const median = (sorted[31] + sorted[32]) / 2;
  const body = new Uint8Array(8);
  for (let i = 0; i < 64; i++) if (coefficients[i] > median) body[i >> 3] |= 0x80 >> (i & 7);
  return body;
}

/** The Image-Code (header + 64-bit body, 10 bytes) of an encoded image. */
export async function isccImageCode(image: Uint8Array): Promise<Uint8Array> {
  const body = imageSoftHash(await normalizedPixels(image));
  const code = new Uint8Array(ISCC_IMAGE_HEADER.length + body.length);
  code.set(ISCC_IMAGE_HEADER);
  code.set(body, ISCC_IMAGE_HEADER.length);
  return code;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** `ISCC:EEA…`: the canonical text form (RFC 4648 base32, no padding). */
export function isccText(code: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of code) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return `ISCC:${out}`;
}

/** The bytes of `ISCC:…` text; undefined when it is not base32. */
export function isccBytes(text: string): Uint8Array | undefined {
  const body = text.replace(/^ISCC:/i, '').toUpperCase();
  if (!/^[A-Z2-7]+$/.test(body)) return undefined;
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of body) {
    value = (value << 5) | BASE32.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    value &= (1 << bits) - 1;
  }
  return Uint8Array.from(out);
}
