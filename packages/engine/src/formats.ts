import { invalidArgument } from '@c2pa-mesh/errors';

/**
 * The media formats the engine (c2pa-rs 0.91 compiled to WebAssembly) embeds manifests in and
 * reads them from, by canonical MIME type, with the names people and file systems use for them.
 */
interface MediaFormat {
  /** Canonical MIME type: what the engine is called with and what callers get back. */
  mime: string;
  /** How a person calls it in a message: "declared image/png but the bytes are a JPEG". */
  displayName: string;
  /** File extensions (without the dot) and MIME aliases that mean the same format. */
  aliases: readonly string[];
  /** False where c2pa-rs reads manifests but cannot write them (bare manifest stores). */
  signable: boolean;
  /** Formats that share one container parser in c2pa-rs; magic bytes only tell the container. */
  container: 'jpeg' | 'png' | 'riff-webp' | 'riff-wave' | 'riff-avi' | 'tiff' | 'bmff' | 'mp3' | 'flac' | 'gif' | 'svg' | 'pdf' | 'jxl' | 'c2pa';
}

const MEDIA_FORMATS: readonly MediaFormat[] = [
  { mime: 'image/jpeg', displayName: 'JPEG', aliases: ['jpg', 'jpeg', 'jpe', 'jfif', 'image/jpg', 'image/pjpeg'], signable: true, container: 'jpeg' },
  { mime: 'image/png', displayName: 'PNG', aliases: ['png', 'image/x-png'], signable: true, container: 'png' },
  { mime: 'image/webp', displayName: 'WebP', aliases: ['webp'], signable: true, container: 'riff-webp' },
  { mime: 'image/tiff', displayName: 'TIFF', aliases: ['tif', 'tiff', 'image/tif', 'image/x-tiff'], signable: true, container: 'tiff' },
  { mime: 'image/avif', displayName: 'AVIF', aliases: ['avif'], signable: true, container: 'bmff' },
  { mime: 'video/mp4', displayName: 'MP4', aliases: ['mp4', 'application/mp4'], signable: true, container: 'bmff' },
  { mime: 'audio/mpeg', displayName: 'MP3', aliases: ['mp3', 'audio/mp3', 'audio/x-mp3', 'audio/mpeg3'], signable: true, container: 'mp3' },
  { mime: 'audio/wav', displayName: 'WAV', aliases: ['wav', 'wave', 'audio/wave', 'audio/x-wav', 'audio/vnd.wave'], signable: true, container: 'riff-wave' },
  { mime: 'audio/flac', displayName: 'FLAC', aliases: ['flac', 'audio/x-flac'], signable: true, container: 'flac' },
  { mime: 'audio/mp4', displayName: 'M4A', aliases: ['m4a', 'audio/x-m4a', 'audio/m4a'], signable: true, container: 'bmff' },
  // Beyond the ten users ask for most: everything else c2pa-rs 0.91 writes and reads back Trusted
  // (test/fixtures/media has a real file of each). Not here, though c2pa-rs names them: ZIP-based
  // documents (EPUB, OOXML, OpenDocument; this build cannot inflate deflated entries), AIFF, Ogg,
  // BMP, MPEG-PS and the Sony and Nikon raw formats (the engine answers "unsupported type").
  { mime: 'image/heic', displayName: 'HEIC', aliases: ['heic'], signable: true, container: 'bmff' },
  { mime: 'image/heif', displayName: 'HEIF', aliases: ['heif'], signable: true, container: 'bmff' },
  { mime: 'video/quicktime', displayName: 'QuickTime', aliases: ['mov', 'qt'], signable: true, container: 'bmff' },
  { mime: 'video/x-m4v', displayName: 'M4V', aliases: ['m4v'], signable: true, container: 'bmff' },
  { mime: 'image/x-adobe-dng', displayName: 'DNG', aliases: ['dng', 'image/dng'], signable: true, container: 'tiff' },
  { mime: 'image/gif', displayName: 'GIF', aliases: ['gif'], signable: true, container: 'gif' },
  { mime: 'image/svg+xml', displayName: 'SVG', aliases: ['svg', 'application/svg+xml'], signable: true, container: 'svg' },
  { mime: 'video/avi', displayName: 'AVI', aliases: ['avi', 'video/x-msvideo', 'video/msvideo', 'application/x-troff-msvideo'], signable: true, container: 'riff-avi' },
  { mime: 'image/jxl', displayName: 'JPEG XL', aliases: ['jxl'], signable: true, container: 'jxl' },
  { mime: 'application/pdf', displayName: 'PDF', aliases: ['pdf', 'application/x-pdf'], signable: true, container: 'pdf' },
  // Read only: c2pa-rs validates the manifests in it but has no asset to embed one in.
  { mime: 'application/c2pa', displayName: 'C2PA manifest store', aliases: ['c2pa', 'application/x-c2pa-manifest-store'], signable: false, container: 'c2pa' },
];

const BY_NAME = new Map<string, MediaFormat>();
for (const format of MEDIA_FORMATS) {
  BY_NAME.set(format.mime, format);
  for (const alias of format.aliases) BY_NAME.set(alias, format);
}

/** Canonical MIME types the engine can embed a manifest in. */
export const SIGNABLE_FORMATS: readonly string[] = Object.freeze(
  MEDIA_FORMATS.filter((f) => f.signable).map((f) => f.mime),
);

/** Canonical MIME types the engine can read and validate a manifest from. */
export const READABLE_FORMATS: readonly string[] = Object.freeze(MEDIA_FORMATS.map((f) => f.mime));

function lookup(format: string): MediaFormat | undefined {
  // MIME types are case-insensitive (RFC 2045 §5.1); parameters such as "; codecs=…" do not
  // change the container, and a leading dot is how extensions are often written.
  const key = format.split(';')[0].trim().toLowerCase().replace(/^\./, '');
  return BY_NAME.get(key);
}

/**
 * The canonical MIME type for a MIME type, alias or file extension ('jpg', '.jpeg', 'image/jpg' →
 * 'image/jpeg'). Throws invalid_argument naming the supported formats when the engine has none.
 */
export function normalizeFormat(format: string): string {
  const found = lookup(format);
  if (found === undefined) {
    const shown = format.trim() === '' ? 'an empty format' : `format "${format.trim().slice(0, 100)}"`;
    throw invalidArgument(
      `${shown} is not supported; supported formats are ${READABLE_FORMATS.join(', ')}`,
      { details: { field: 'format', supportedFormats: READABLE_FORMATS } },
    );
  }
  return found.mime;
}

/** True when the engine can embed a manifest in this format (given in any accepted spelling). */
export function isSignableFormat(format: string): boolean {
  return lookup(format)?.signable === true;
}

/** A person's name for a format: 'image/jpeg' → 'JPEG'. */
export function formatDisplayName(format: string): string {
  return lookup(format)?.displayName ?? format;
}

/** The usual file extension of a format: 'image/svg+xml' → 'svg', 'video/quicktime' → 'mov'. */
export function formatExtension(format: string): string | undefined {
  return lookup(format)?.aliases.find((alias) => !alias.includes('/'));
}

const ascii = (bytes: Uint8Array, start: number, length: number): string =>
  String.fromCharCode(...bytes.subarray(start, start + length));

const startsWith = (bytes: Uint8Array, signature: readonly number[], offset = 0): boolean =>
  bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b);

/** ISO BMFF brands (ISO/IEC 14496-12 ftyp) by the format they announce. */
const BMFF_BRANDS: Record<string, string> = {
  avif: 'image/avif', avis: 'image/avif',
  heic: 'image/heic', heix: 'image/heic', heim: 'image/heic', heis: 'image/heic', hevc: 'image/heic', hevx: 'image/heic',
  mif1: 'image/heif', msf1: 'image/heif',
  'M4A ': 'audio/mp4', 'M4B ': 'audio/mp4', 'M4P ': 'audio/mp4', 'F4A ': 'audio/mp4',
  'qt  ': 'video/quicktime',
  'M4V ': 'video/x-m4v', M4VH: 'video/x-m4v', M4VP: 'video/x-m4v',
};

function sniffBmff(bytes: Uint8Array): string {
  const boxSize = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  const end = Math.min(bytes.length, boxSize >= 16 ? boxSize : 16);
  const major = ascii(bytes, 8, 4);
  const compatible: string[] = [];
  for (let i = 16; i + 4 <= end; i += 4) compatible.push(ascii(bytes, i, 4));
  // Still images are often announced as a generic HEIF (mif1) with the codec in the compatible
  // brands, so an image brand anywhere wins over the generic one.
  for (const brand of [major, ...compatible]) {
    const mime = BMFF_BRANDS[brand];
    if (mime === 'image/avif' || mime === 'image/heic') return mime;
  }
  return BMFF_BRANDS[major] ?? 'video/mp4';
}

/** Length of an ID3v2 tag at the start (syncsafe size, RFC-less but fixed by the ID3v2.4 spec). */
function id3Length(bytes: Uint8Array): number {
  if (bytes.length < 10 || ascii(bytes, 0, 3) !== 'ID3') return 0;
  const size = ((bytes[6] & 0x7f) << 21) | ((bytes[7] & 0x7f) << 14) | ((bytes[8] & 0x7f) << 7) | (bytes[9] & 0x7f);
  const footer = (bytes[5] & 0x10) !== 0 ? 10 : 0;
  return 10 + size + footer;
}

/** An MPEG audio frame header: 11 sync bits, then a valid layer, bitrate and sample rate. */
function isMpegAudioFrame(bytes: Uint8Array, offset: number): boolean {
  if (bytes.length < offset + 4) return false;
  const [b0, b1, b2] = [bytes[offset], bytes[offset + 1], bytes[offset + 2]];
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return false;
  const version = (b1 >> 3) & 0x03;
  const layer = (b1 >> 1) & 0x03;
  const bitrate = (b2 >> 4) & 0x0f;
  const sampleRate = (b2 >> 2) & 0x03;
  return version !== 0x01 && layer !== 0x00 && bitrate !== 0x0f && sampleRate !== 0x03;
}

/** TIFF tag 50706, DNGVersion: the DNG specification (1.4, chapter 4) requires it in IFD 0. */
const DNG_VERSION_TAG = 0xc612;

/**
 * True when a classic TIFF's first IFD lies within the bytes given and carries DNGVersion. A DNG
 * whose first IFD is further in than the bytes sniffed reads as TIFF, which the engine handles
 * alike.
 */
function hasDngVersion(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = bytes[0] === 0x49;
  if (bytes.length < 8) return false;
  const ifd = view.getUint32(4, little);
  if (ifd < 8 || ifd + 2 > bytes.length) return false;
  const entries = view.getUint16(ifd, little);
  for (let i = 0; i < entries; i++) {
    const at = ifd + 2 + 12 * i;
    if (at + 2 > bytes.length) return false;
    if (view.getUint16(at, little) === DNG_VERSION_TAG) return true;
  }
  return false;
}

function looksLikeSvg(bytes: Uint8Array): boolean {
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 4096)).replace(/^\uFEFF/, '').trimStart();
  if (!head.startsWith('<')) return false;
  // After an optional XML declaration, comments and a doctype, the root element is <svg>.
  return /^(<\?xml[^>]*\?>\s*)?(<!--[\s\S]*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>/]/i.test(head);
}

/**
 * The canonical MIME type the bytes announce by their magic numbers, or undefined when they look
 * like none of the formats the engine knows. Container formats resolve as far as their headers go:
 * ISO BMFF by its ftyp brands, RIFF by its form type, TIFF as DNG when its first IFD says so.
 */
export function sniffFormat(bytes: Uint8Array): string | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF') {
    const form = ascii(bytes, 8, 4);
    if (form === 'WEBP') return 'image/webp';
    if (form === 'WAVE') return 'audio/wav';
    if (form === 'AVI ') return 'video/avi';
    return undefined;
  }
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return hasDngVersion(bytes) ? 'image/x-adobe-dng' : 'image/tiff';
  if (startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])) return 'image/tiff';
  if (bytes.length >= 12 && ascii(bytes, 4, 4) === 'ftyp') return sniffBmff(bytes);
  if (bytes.length >= 8 && ascii(bytes, 4, 4) === 'jumb') return 'application/c2pa';
  if (startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a])) return 'image/jxl';
  if (startsWith(bytes, [0xff, 0x0a])) return 'image/jxl';
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) return 'image/gif';
  if (bytes.length >= 5 && ascii(bytes, 0, 5) === '%PDF-') return 'application/pdf';
  if (bytes.length >= 4 && ascii(bytes, 0, 4) === 'fLaC') return 'audio/flac';
  const id3 = id3Length(bytes);
  if (id3 > 0) {
    // FLAC files may carry an ID3 tag in front too; what follows the tag decides.
    if (bytes.length >= id3 + 4 && ascii(bytes, id3, 4) === 'fLaC') return 'audio/flac';
    return 'audio/mpeg';
  }
  if (isMpegAudioFrame(bytes, 0)) return 'audio/mpeg';
  if (looksLikeSvg(bytes)) return 'image/svg+xml';
  return undefined;
}

/**
 * Checks the declared format against the magic bytes and returns its canonical MIME type.
 * Formats sharing one container parser (MP4/M4A/MOV/AVIF/HEIC, TIFF/DNG) accept each other: their
 * headers do not always say which one they are, and c2pa-rs handles them alike.
 */
export function checkDeclaredFormat(declared: string, bytes: Uint8Array): string {
  const format = lookup(declared);
  const canonical = normalizeFormat(declared);
  const sniffed = sniffFormat(bytes);
  if (sniffed === undefined) {
    // MP3 without an ID3 tag may start with junk before the first frame, and an SVG with a long
    // preamble; for these the engine's own parser decides.
    if (bytes.length > 0 && (format?.container === 'mp3' || format?.container === 'svg')) return canonical;
    throw invalidArgument(
      bytes.length === 0
        ? `declared ${canonical} but the asset is empty`
        : `declared ${canonical} but the bytes are not ${article(format?.displayName ?? canonical)} file (nor any other supported format)`,
      { details: { field: 'format', declared: canonical } },
    );
  }
  const actual = lookup(sniffed);
  if (sniffed === canonical || (actual !== undefined && actual.container === format?.container)) return canonical;
  throw invalidArgument(`declared ${canonical} but the bytes are ${article(actual?.displayName ?? sniffed)}`, {
    details: { field: 'format', declared: canonical, detected: sniffed },
  });
}

/**
 * Throws invalid_argument when the bytes are a form of a signable format that has nowhere to keep
 * a manifest: a bare JPEG XL codestream (c2pa-rs embeds the manifest as a box of the JPEG XL
 * container, ISO/IEC 18181-2, and does not wrap a codestream into one).
 */
export function checkSignableForm(format: string, bytes: Uint8Array): void {
  if (lookup(format)?.container === 'jxl' && startsWith(bytes, [0xff, 0x0a])) {
    throw invalidArgument(
      'a bare JPEG XL codestream cannot carry Content Credentials; send the image in the JPEG XL container (boxes starting "JXL "), as cjxl --container=1 writes it',
      { details: { field: 'format', declared: 'image/jxl' } },
    );
  }
}

// Names read letter by letter or starting with a vowel sound take "an".
const TAKES_AN = new Set(['AVIF', 'MP3', 'MP4', 'M4A', 'M4V', 'SVG', 'AVI']);
const article = (name: string) => (TAKES_AN.has(name) ? `an ${name}` : `a ${name}`);
