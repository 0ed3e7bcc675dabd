import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';
import type { ByteSource } from './byte-source.js';
import { concat } from './jumbf.js';
import { mp3Layout } from './layouts-mp3.js';

/**
 * Where a manifest store goes in each data-hash format, as c2pa-rs 0.91 embeds it, for an asset
 * read from a ByteSource: only the headers are read here, never the media.
 */

/** One piece of the signed asset, in order. */
export type OutputPart = { kind: 'source'; offset: number; length: number } | { kind: 'bytes'; bytes: Uint8Array } | { kind: 'store' };

/** A range of the signed asset the hard binding hashes; `withOffset`: its offset first (BMFF v2+). */
export interface HashedRange {
  offset: number;
  length: number;
  withOffset: boolean;
}

export interface EmbeddingLayout {
  /**
   * `data`: `c2pa.hash.data`, every byte but the store's. `bmff`: `c2pa.hash.bmff.v3`, the
   * top-level boxes `hashedRanges` names, each after its offset.
   */
  binding: 'data' | 'bmff';
  /** For `bmff`: the ranges hashed, given the parts. */
  hashedRanges?(parts: OutputPart[]): HashedRange[];
  /** The signed asset for a wrapped store of this length (the store part is the exclusion). */
  parts(wrappedStoreLength: number): OutputPart[];
  /** Bytes that carry the store in the format (segments, a chunk). */
  wrap(store: Uint8Array): Uint8Array;
  wrappedLength(storeLength: number): number;
  /** The store's length must be even (a RIFF chunk without a pad byte). */
  evenStore: boolean;
}

const ascii = (bytes: Uint8Array) => String.fromCharCode(...bytes);

function alreadySigned(format: string): never {
  throw failedPrecondition(
    `the ${format} already carries a C2PA manifest; the streaming signer of large assets writes new manifests only (edit and update keep the old one as an ingredient, which it cannot do yet)`,
    { details: { reason: 'streaming-unsupported', field: 'intent' } },
  );
}

/** The largest RIFF: its size field is 32 bits. */
const RIFF_MAX = 0xffff_ffff;

/**
 * RIFF (WAV, WebP, AVI): a top-level `C2PA` chunk appended after the last chunk, the RIFF size
 * patched (c2pa-rs `riff_io.rs`: "place at the end for maximum compatibility"). The exclusion is
 * the chunk, header included.
 */
export async function riffLayout(source: ByteSource, format: string): Promise<EmbeddingLayout> {
  const header = await source.read(0, 12);
  const declared = riffDeclaredBytes(header, format);
  if (declared !== source.size) {
    throw invalidArgument(`the RIFF header announces ${declared} bytes but the asset has ${source.size}; the file is truncated or has trailing data`);
  }
  for (let at = 12; at < source.size; ) {
    if (at + 8 > source.size) throw invalidArgument(`a RIFF chunk header at byte ${at} runs past the end of the asset`);
    at = riffChunkEnd(await source.read(at, 8), at, source.size, format);
  }
  return riffLayoutOf(header, format);
}

/** The length of the RIFF file whose first 12 bytes are `header`, as its header announces it. */
export function riffDeclaredBytes(header: Uint8Array, format: string): number {
  if (header.length < 12 || ascii(header.subarray(0, 4)) !== 'RIFF') throw invalidArgument(`the asset is not a RIFF file (${format})`);
  return new DataView(header.buffer, header.byteOffset, 12).getUint32(4, true) + 8;
}

/**
 * Where the top-level chunk whose 8-byte header (id, size) is at `at` ends, its pad byte
 * included; refuses a C2PA chunk and a chunk that runs past `size`.
 */
export function riffChunkEnd(chunkHeader: Uint8Array, at: number, size: number, format: string): number {
  const id = ascii(chunkHeader.subarray(0, 4));
  const length = new DataView(chunkHeader.buffer, chunkHeader.byteOffset, 8).getUint32(4, true);
  if (id === 'C2PA') alreadySigned(format);
  const next = at + 8 + length + (length % 2);
  if (next > size) throw invalidArgument(`the RIFF chunk "${id}" at byte ${at} runs past the end of the asset`);
  return next;
}

/**
 * The layout of a RIFF file from its first 12 bytes alone (the size it announces): the store
 * goes after the last chunk, so nothing else of the file decides where it goes or how long it is.
 */
export function riffLayoutOf(header: Uint8Array, format: string): EmbeddingLayout {
  const size = riffDeclaredBytes(header, format);
  return {
    binding: 'data',
    evenStore: true,
    wrappedLength: (storeLength) => 8 + storeLength,
    wrap(store) {
      const chunkHeader = new Uint8Array(8);
      chunkHeader.set([0x43, 0x32, 0x50, 0x41]); // "C2PA"
      new DataView(chunkHeader.buffer).setUint32(4, store.length, true);
      return concat([chunkHeader, store]);
    },
    parts(wrappedStoreLength) {
      const total = size + wrappedStoreLength;
      if (total - 8 > RIFF_MAX) {
        throw failedPrecondition(`a RIFF file holds at most 4 GiB; with its manifest this ${format} would be ${total} bytes`, { details: { reason: 'riff-size' } });
      }
      const riffHeader = header.slice(0, 12);
      new DataView(riffHeader.buffer).setUint32(4, total - 8, true);
      return [{ kind: 'bytes', bytes: riffHeader }, { kind: 'source', offset: 12, length: size - 12 }, { kind: 'store' }];
    },
  };
}

/** c2pa-rs splits a store into APP11 segments of at most this much JUMBF (`MAX_JPEG_MARKER_SIZE`). */
const JPEG_SEGMENT_DATA = 64_000;
const APP0 = 0xe0;
const APP11 = 0xeb;
const SOS = 0xda;

/**
 * JPEG: the store in APP11 segments (JPEG XT: "JP", box instance 0x0211, sequence number, and
 * from the second segment on the store's first eight bytes again), placed after the last APP0
 * (JFIF) or right after SOI, as c2pa-rs `jpeg_io.rs` does. The exclusion covers the segments,
 * markers included.
 */
export async function jpegLayout(source: ByteSource, format: string): Promise<EmbeddingLayout> {
  const head = await source.read(0, 2);
  if (head[0] !== 0xff || head[1] !== 0xd8) throw invalidArgument('the asset is not a JPEG (no SOI marker)');
  let insertAt = 2;
  for (let at = 2; ; ) {
    const marker = await source.read(at, 4);
    if (marker.length < 2 || marker[0] !== 0xff) throw invalidArgument(`the JPEG has no valid marker at byte ${at}`);
    const code = marker[1];
    if (code === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (code === 0x01 || (code >= 0xd0 && code <= 0xd7)) {
      at += 2;
      continue;
    }
    if (code === 0xd9) throw invalidArgument('the JPEG ends before its image data');
    if (marker.length < 4) throw invalidArgument(`the JPEG segment at byte ${at} runs past the end of the asset`);
    const length = (marker[2] << 8) | marker[3];
    if (length < 2 || at + 2 + length > source.size) throw invalidArgument(`the JPEG segment at byte ${at} runs past the end of the asset`);
    if (code === APP11) {
      const body = await source.read(at + 4, Math.min(length - 2, 64));
      // "JP", En, Z, then a JUMBF superbox whose description names the C2PA store type.
      if (ascii(body.subarray(0, 2)) === 'JP' && ascii(body.subarray(12, 16)) === 'jumb' && ascii(body.subarray(24, 28)) === 'c2pa') alreadySigned(format);
    }
    if (code === APP0) insertAt = at + 2 + length;
    if (code === SOS) break;
    at += 2 + length;
  }
  const segmentsFor = (storeLength: number) => Math.max(1, Math.ceil(storeLength / JPEG_SEGMENT_DATA));
  return {
    binding: 'data',
    evenStore: false,
    wrappedLength: (storeLength) => storeLength + segmentsFor(storeLength) * 12 + (segmentsFor(storeLength) - 1) * 8,
    wrap(store) {
      const segments: Uint8Array[] = [];
      const count = segmentsFor(store.length);
      for (let i = 0; i < count; i++) {
        const data = store.subarray(i * JPEG_SEGMENT_DATA, (i + 1) * JPEG_SEGMENT_DATA);
        const repeat = i === 0 ? new Uint8Array(0) : store.subarray(0, 8);
        const segment = new Uint8Array(12 + repeat.length + data.length);
        const view = new DataView(segment.buffer);
        view.setUint16(0, 0xffeb);
        view.setUint16(2, segment.length - 2);
        segment.set([0x4a, 0x50, 0x02, 0x11], 4); // "JP", En = 0x0211
        view.setUint32(8, i + 1); // Z, from 1
        segment.set(repeat, 12);
        segment.set(data, 12 + repeat.length);
        segments.push(segment);
      }
      return concat(segments);
    },
    parts: () => [{ kind: 'source', offset: 0, length: insertAt }, { kind: 'store' }, { kind: 'source', offset: insertAt, length: source.size - insertAt }],
  };
}

/** The C2PA box's extended type (c2pa-rs `C2PA_UUID`). */
export const C2PA_BMFF_UUID = Uint8Array.from([0xd8, 0xfe, 0xc3, 0xd6, 0x1b, 0x0e, 0x48, 0x3c, 0x92, 0x97, 0x58, 0x28, 0x87, 0x7e, 0xc4, 0x81]);
/** Top-level boxes the BMFF hash leaves out besides the C2PA box, as c2pa-rs writes them. */
export const BMFF_EXCLUDED_BOXES = ['ftyp', 'mfra', 'free', 'skip'];
const BMFF_PURPOSE = 'manifest';

/**
 * ISO BMFF (MP4, MOV, M4A, ...): the store in a top-level `uuid` box (C2PA extended type,
 * version/flags 0, purpose "manifest", a zero Merkle offset), as c2pa-rs `bmff_io.rs` writes it,
 * but appended after the last box instead of after `ftyp`: no chunk offset (`stco`, `co64`,
 * `iloc`) changes, so the media is copied as it is and hashed as it is sent. The
 * `c2pa.hash.bmff.v3` exclusions find the box by type, wherever it is.
 */
export async function bmffLayout(source: ByteSource, format: string): Promise<EmbeddingLayout> {
  const boxes: Array<{ type: string; offset: number; length: number }> = [];
  for (let at = 0; at < source.size; ) {
    const { type, size } = bmffBoxHeader(await source.read(at, BMFF_HEADER_BYTES), at, format, true)!;
    if (at + size > source.size) throw invalidArgument(`the ${format} box "${type}" at byte ${at} runs past the end of the asset`);
    boxes.push({ type, offset: at, length: size });
    at += size;
  }
  return {
    binding: 'bmff',
    evenStore: false,
    ...bmffManifestBox,
    parts: () => [{ kind: 'source', offset: 0, length: source.size }, { kind: 'store' }],
    hashedRanges: () => boxes.filter((box) => !BMFF_EXCLUDED_BOXES.includes(box.type)).map((box) => ({ offset: box.offset, length: box.length, withOffset: true })),
  };
}

/** Enough of a box header to know its size, type and (for `uuid`) extended type. */
export const BMFF_HEADER_BYTES = 32;

/**
 * The type and size of the top-level box whose header begins `header` at byte `at`, or
 * `undefined` when more of the header is needed (a 64-bit size, a `uuid` type) and `atEnd` is
 * false. Refuses what the streaming signer cannot write: a box without a size at the end, a file
 * that already has a C2PA box, fragmented media. Whether the box fits in the file is the caller's.
 */
export function bmffBoxHeader(header: Uint8Array, at: number, format: string, atEnd: boolean): { type: string; size: number } | undefined {
  const more = (type?: string) => {
    if (!atEnd) return undefined;
    throw invalidArgument(type === undefined ? `the ${format} has a box header at byte ${at} that runs past the end of the asset` : `the ${format} box "${type}" at byte ${at} runs past the end of the asset`);
  };
  if (header.length < 8) return more();
  const view = new DataView(header.buffer, header.byteOffset, header.length);
  let size = view.getUint32(0);
  const type = ascii(header.subarray(4, 8));
  let headerLength = 8;
  if (size === 1) {
    if (header.length < 16) return more(type);
    size = Number(view.getBigUint64(8));
    headerLength = 16;
  } else if (size === 0) {
    throw failedPrecondition(`the last box of the ${format} ("${type}") runs to the end of the file without a size; the streaming signer cannot append its manifest after it`, {
      details: { reason: 'streaming-unsupported' },
    });
  }
  if (size < headerLength) throw invalidArgument(`the ${format} box "${type}" at byte ${at} runs past the end of the asset`);
  if (at === 0 && type !== 'ftyp') throw invalidArgument(`the asset is not an ISO BMFF file (${format}): it does not start with an ftyp box`);
  if (type === 'uuid' && size >= headerLength + 16) {
    if (header.length < headerLength + 16) return more(type);
    if (C2PA_BMFF_UUID.every((b, i) => header[headerLength + i] === b)) alreadySigned(format);
  }
  if (type === 'moof') {
    throw failedPrecondition(`the ${format} is fragmented (moof boxes); the streaming signer does not write the Merkle hashes fragmented media needs yet`, {
      details: { reason: 'streaming-unsupported' },
    });
  }
  return { type, size };
}

const BMFF_BOX_PREFIX = 8 + 16 + 4 + BMFF_PURPOSE.length + 1 + 8;

/** The C2PA box appended to a BMFF file: its length for a store's, and the box itself. */
export const bmffManifestBox: Pick<EmbeddingLayout, 'wrap' | 'wrappedLength'> = {
  wrappedLength: (storeLength) => BMFF_BOX_PREFIX + storeLength,
  wrap(store) {
    const prefix = new Uint8Array(BMFF_BOX_PREFIX);
    const view = new DataView(prefix.buffer);
    view.setUint32(0, BMFF_BOX_PREFIX + store.length);
    prefix.set([0x75, 0x75, 0x69, 0x64], 4); // "uuid"
    prefix.set(C2PA_BMFF_UUID, 8);
    // version 0, flags 0 (bytes 24-27), the purpose and its NUL, then the Merkle offset 0.
    prefix.set(new TextEncoder().encode(BMFF_PURPOSE), 28);
    return concat([prefix, store]);
  },
};

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** CRC-32 of a PNG chunk (type and data), as zlib computes it. */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * PNG: the store in a `caBX` chunk right after IHDR, as c2pa-rs `png_io.rs` places it. The
 * exclusion covers the chunk (length, type, data, CRC). The store comes before the image data,
 * so the source is read twice (hash, then send).
 */
export async function pngLayout(source: ByteSource, format: string): Promise<EmbeddingLayout> {
  const head = await source.read(0, 8);
  if (!PNG_SIGNATURE.every((b, i) => head[i] === b)) throw invalidArgument('the asset is not a PNG (no PNG signature)');
  let insertAt = 0;
  for (let at = 8; at < source.size; ) {
    const header = await source.read(at, 8);
    if (header.length < 8) throw invalidArgument(`a PNG chunk header at byte ${at} runs past the end of the asset`);
    const length = new DataView(header.buffer, header.byteOffset, 8).getUint32(0);
    const type = ascii(header.subarray(4, 8));
    if (type === 'caBX') alreadySigned(format);
    const next = at + 12 + length;
    if (next > source.size) throw invalidArgument(`the PNG chunk "${type}" at byte ${at} runs past the end of the asset`);
    if (type === 'IHDR') insertAt = next;
    at = next;
    if (type === 'IEND') break;
  }
  if (insertAt === 0) throw invalidArgument('the PNG has no IHDR chunk');
  return {
    binding: 'data',
    evenStore: false,
    wrappedLength: (storeLength) => 12 + storeLength,
    wrap(store) {
      const chunk = new Uint8Array(12 + store.length);
      const view = new DataView(chunk.buffer);
      view.setUint32(0, store.length);
      chunk.set([0x63, 0x61, 0x42, 0x58], 4); // "caBX"
      chunk.set(store, 8);
      view.setUint32(8 + store.length, crc32(chunk.subarray(4, 8 + store.length)));
      return chunk;
    },
    parts: () => [{ kind: 'source', offset: 0, length: insertAt }, { kind: 'store' }, { kind: 'source', offset: insertAt, length: source.size - insertAt }],
  };
}

/** The formats the streaming signer writes, by canonical MIME type. */
export const STREAMING_LAYOUTS: Readonly<Record<string, (source: ByteSource, format: string) => Promise<EmbeddingLayout>>> = {
  'audio/wav': riffLayout,
  'image/webp': riffLayout,
  'video/avi': riffLayout,
  'image/jpeg': jpegLayout,
  'video/mp4': bmffLayout,
  'audio/mp4': bmffLayout,
  'video/quicktime': bmffLayout,
  'video/x-m4v': bmffLayout,
  'image/avif': bmffLayout,
  'image/png': pngLayout,
  'audio/mpeg': mp3Layout,
};
