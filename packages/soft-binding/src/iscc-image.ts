import sharp from 'sharp';

/**
 * The ISCC Image-Code, version 0 (ISO 24138; `io.iscc.v0` in the C2PA soft-binding algorithm
 * list): a 64-bit perceptual hash of the decoded pixels, prefixed by the 2-byte ISCC header.
 *
 * Written here because no maintained JavaScript package computes it (the reference is the Python
 * `iscc-core`). The steps are those of iscc-core's `image_normalize` and `soft_hash_image_v0`:
 * orientation applied, transparency filled with white, reduced to 32×32 (no border trimming, see
 * normalizedPixels),
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

/**
 * Unscaled DCT-II (X[k] = Σ x[n]·cos(π/N·(n+½)·k)) by the recursive even/odd split that iscc-core
 * uses (Byeong Gi Lee's algorithm, as published by Project Nayuki). The same arithmetic matters:
 * on flat regions it gives exact zeros where a direct cosine sum leaves rounding noise, which
 * would flip bits compared with the median.
 */
function dct(v: readonly number[]): number[] {
  const n = v.length;
  if (n === 1) return [v[0]];
  const half = n / 2;
  const alpha: number[] = [];
  const beta: number[] = [];
  for (let i = 0; i < half; i++) {
    alpha.push(v[i] + v[n - 1 - i]);
    beta.push((v[i] - v[n - 1 - i]) / (Math.cos(((i + 0.5) * Math.PI) / n) * 2));
  }
  const a = dct(alpha);
  const b = dct(beta);
  const out: number[] = [];
  for (let i = 0; i < half - 1; i++) out.push(a[i], b[i] + b[i + 1]);
  out.push(a[half - 1], b[half - 1]);
  return out;
}

/**
 * The 32×32 luma values, row by row. iscc-core also trims a uniform border first; that is left
 * out here: it needs the full-size decode (twice the time of a JPEG decoded at 1/8 scale, which
 * libvips does when it only has to reduce), and a border a platform adds or removes is rare.
 */
async function normalizedPixels(image: Uint8Array): Promise<Uint8Array> {
  const { data, info } = await sharp(image, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error', pages: 1 })
    .rotate()
    .flatten({ background: '#ffffff' })
    .resize(SIDE, SIDE, { fit: 'fill', kernel: 'cubic' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const channels = info.channels;
  const luma = new Uint8Array(SIDE * SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) {
    const r = data[i * channels];
    const g = channels >= 3 ? data[i * channels + 1] : r;
    const b = channels >= 3 ? data[i * channels + 2] : r;
    luma[i] = Math.floor((r * 299 + g * 587 + b * 114) / 1000);
  }
  return luma;
}

/** The 8×8 blocks of DCT coefficients, in the order iscc-core reads them for longer codes. */
const SLICES: ReadonlyArray<readonly [number, number]> = [[0, 0], [1, 0], [0, 1], [1, 1]];

/**
 * The body of the Image-Code (`bits` / 8 bytes; 64 bits unless asked for more, at most 256) from
 * 32×32 luma values, row by row: iscc-core's `soft_hash_image_v0`.
 */
export function imageSoftHash(pixels: ArrayLike<number>, bits = ISCC_IMAGE_BITS): Uint8Array {
  if (pixels.length !== SIDE * SIDE) throw new RangeError(`expected ${SIDE * SIDE} pixels`);
  if (bits % 64 !== 0 || bits < 64 || bits > 256) throw new RangeError('bits must be 64, 128, 192 or 256');
  const rows: number[][] = [];
  for (let y = 0; y < SIDE; y++) rows.push(dct(Array.from({ length: SIDE }, (_, x) => pixels[y * SIDE + x])));
  // columns[u][v]: u the horizontal frequency, v the vertical one (the DCT of each column of rows).
  const columns: number[][] = [];
  for (let u = 0; u < SIDE; u++) columns.push(dct(rows.map((row) => row[u])));
  const out = new Uint8Array(bits / 8);
  let bit = 0;
  for (const [x, y] of SLICES) {
    const block: number[] = [];
    for (let v = y; v < y + 8; v++) for (let u = x; u < x + 8; u++) block.push(columns[u][v]);
    const sorted = [...block].sort((a, b) => a - b);
    const median = (sorted[31] + sorted[32]) / 2;
    for (const value of block) {
      if (value > median) out[bit >> 3] |= 0x80 >> (bit & 7);
      bit++;
    }
    if (bit >= bits) break;
  }
  return out;
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
