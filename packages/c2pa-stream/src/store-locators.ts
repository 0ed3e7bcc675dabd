import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';
import type { ByteSource } from './byte-source.js';
import { concat } from './jumbf.js';
import { C2PA_BMFF_UUID } from './layouts.js';
import { mp3Store } from './layouts-mp3.js';

/**
 * Finds the embedded C2PA manifest store of a large asset by reading its structure (chunk, segment
 * and box headers), never its media: the store is returned, the media stays on disk. Where c2pa-rs
 * embeds it: a RIFF `C2PA` chunk, JPEG APP11 (JPEG XT) segments, an ISO BMFF `uuid` box, a PNG `caBX` chunk,
 * an MP3's ID3v2 GEOB frame.
 */

/** A manifest store larger than this is not one the mesh reads whole. */
const MAX_STORE_BYTES = 64 * 1024 * 1024;

const ascii = (bytes: Uint8Array) => String.fromCharCode(...bytes);

function checkedStoreLength(length: number, format: string): number {
  if (length > MAX_STORE_BYTES) {
    throw failedPrecondition(`the ${format}'s manifest store is ${length} bytes, more than the ${MAX_STORE_BYTES} the mesh reads`, { details: { reason: 'manifest-store-size' } });
  }
  return length;
}

async function riffStore(source: ByteSource, format: string): Promise<Uint8Array | undefined> {
  const header = await source.read(0, 12);
  if (header.length < 12 || ascii(header.subarray(0, 4)) !== 'RIFF') throw invalidArgument(`the asset is not a RIFF file (${format})`);
  for (let at = 12; at + 8 <= source.size; ) {
    const chunk = await source.read(at, 8);
    const size = new DataView(chunk.buffer, chunk.byteOffset, 8).getUint32(4, true);
    if (ascii(chunk.subarray(0, 4)) === 'C2PA') return source.read(at + 8, checkedStoreLength(size, format));
    at += 8 + size + (size % 2);
  }
  return undefined;
}

async function jpegStore(source: ByteSource, format: string): Promise<Uint8Array | undefined> {
  const head = await source.read(0, 2);
  if (head[0] !== 0xff || head[1] !== 0xd8) throw invalidArgument('the asset is not a JPEG (no SOI marker)');
  // APP11 segments by box instance: the C2PA store is the one whose first segment opens a C2PA superbox.
  const instances = new Map<number, { c2pa: boolean; parts: Uint8Array[]; total: number }>();
  for (let at = 2; at + 4 <= source.size; ) {
    const marker = await source.read(at, 4);
    if (marker[0] !== 0xff) throw invalidArgument(`the JPEG has no valid marker at byte ${at}`);
    const code = marker[1];
    if (code === 0xff) {
      at += 1;
      continue;
    }
    if (code === 0x01 || (code >= 0xd0 && code <= 0xd7)) {
      at += 2;
      continue;
    }
    if (code === 0xd9 || code === 0xda) break; // end of image, or the image data: no more markers to read
    const length = (marker[2] << 8) | marker[3];
    if (length < 2 || at + 2 + length > source.size) throw invalidArgument(`the JPEG segment at byte ${at} runs past the end of the asset`);
    if (code === 0xeb && length >= 2 + 8) {
      const body = await source.read(at + 4, length - 2);
      if (ascii(body.subarray(0, 2)) === 'JP') {
        const instance = (body[2] << 8) | body[3];
        const sequence = new DataView(body.buffer, body.byteOffset + 4, 4).getUint32(0);
        let entry = instances.get(instance);
        if (sequence === 1) {
          entry = { c2pa: ascii(body.subarray(12, 16)) === 'jumb' && ascii(body.subarray(24, 28)) === 'c2pa', parts: [body.subarray(8)], total: body.length - 8 };
          instances.set(instance, entry);
        } else if (entry !== undefined) {
          // Later segments repeat the superbox's first eight bytes (its size and type).
          entry.parts.push(body.subarray(16));
          entry.total += body.length - 16;
          checkedStoreLength(entry.total, format);
        }
      }
    }
    at += 2 + length;
  }
  const store = [...instances.values()].find((e) => e.c2pa);
  return store === undefined ? undefined : concat(store.parts);
}

async function bmffStore(source: ByteSource, format: string): Promise<Uint8Array | undefined> {
  for (let at = 0; at + 8 <= source.size; ) {
    const header = await source.read(at, 16);
    const view = new DataView(header.buffer, header.byteOffset, header.length);
    let size = view.getUint32(0);
    let headerLength = 8;
    if (size === 1 && header.length === 16) {
      size = Number(view.getBigUint64(8));
      headerLength = 16;
    } else if (size === 0) {
      size = source.size - at;
    }
    const type = ascii(header.subarray(4, 8));
    if (size < headerLength || at + size > source.size) throw invalidArgument(`the ${format} box "${type}" at byte ${at} runs past the end of the asset`);
    if (type === 'uuid' && size >= headerLength + 16 + 4) {
      const box = await source.read(at + headerLength, Math.min(size - headerLength, 16 + 4 + 64));
      if (C2PA_BMFF_UUID.every((b, i) => box[i] === b)) {
        // version/flags, then a NUL-terminated purpose; "manifest" is followed by the Merkle offset.
        const end = box.indexOf(0, 20);
        if (end < 0) throw invalidArgument(`the ${format}'s C2PA box has no purpose`);
        const purpose = ascii(box.subarray(20, end));
        if (purpose === 'manifest') {
          const start = at + headerLength + end + 1 + 8;
          return source.read(start, checkedStoreLength(at + size - start, format));
        }
      }
    }
    at += size;
  }
  return undefined;
}

async function pngStore(source: ByteSource, format: string): Promise<Uint8Array | undefined> {
  const head = await source.read(0, 8);
  if (ascii(head.subarray(1, 4)) !== 'PNG') throw invalidArgument('the asset is not a PNG (no PNG signature)');
  for (let at = 8; at + 8 <= source.size; ) {
    const header = await source.read(at, 8);
    const length = new DataView(header.buffer, header.byteOffset, 8).getUint32(0);
    const type = ascii(header.subarray(4, 8));
    if (type === 'caBX') return source.read(at + 8, checkedStoreLength(length, format));
    if (type === 'IEND') break;
    at += 12 + length;
  }
  return undefined;
}

const LOCATORS: Readonly<Record<string, (source: ByteSource, format: string) => Promise<Uint8Array | undefined>>> = {
  'audio/wav': riffStore,
  'image/webp': riffStore,
  'video/avi': riffStore,
  'image/jpeg': jpegStore,
  'video/mp4': bmffStore,
  'audio/mp4': bmffStore,
  'video/quicktime': bmffStore,
  'video/x-m4v': bmffStore,
  'image/avif': bmffStore,
  'image/heic': bmffStore,
  'image/heif': bmffStore,
  'image/png': pngStore,
  'audio/mpeg': (source, format) => mp3Store(source, format, MAX_STORE_BYTES),
};

/** Canonical MIME types whose large assets are verified from a file. */
export const STREAM_VERIFY_FORMATS: readonly string[] = Object.freeze(Object.keys(LOCATORS));

/** The embedded manifest store, or undefined when the asset carries none. */
export async function locateManifestStore(source: ByteSource, format: string): Promise<Uint8Array | undefined> {
  const locate = LOCATORS[format];
  if (locate === undefined) {
    throw failedPrecondition(`large ${format} assets cannot be verified without reading them whole yet; the mesh verifies large ${STREAM_VERIFY_FORMATS.join(', ')}`, {
      details: { reason: 'streaming-unsupported', field: 'format' },
    });
  }
  return locate(source, format);
}
