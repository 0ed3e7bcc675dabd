import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';
import type { ByteSource } from './byte-source.js';
import type { EmbeddingLayout, OutputPart } from './layouts.js';

/**
 * MP3 (audio/mpeg): the manifest store in a GEOB frame of the ID3v2 tag at the start of the file,
 * as c2pa-rs 0.91 `mp3_io.rs`/`id3_helper.rs` embeds it: MIME type `application/c2pa`, file name
 * "c2pa", description "c2pa manifest store", the store as the object. c2pa-rs reads that type and
 * the older `application/x-c2pa-manifest-store`. The `c2pa.hash.data` exclusion is the store alone
 * (c2pa-rs `get_object_locations`): the tag header and the frame's own header and fields are hashed.
 *
 * An asset without a tag gets an ID3v2.4 tag holding the GEOB frame alone, as c2pa-rs writes it.
 * An existing tag keeps its version and its frames byte for byte, the GEOB frame added after the
 * last of them (c2pa-rs re-encodes the frames as ID3v2.4; what it reads of them is the same), its
 * padding kept; the extended header, which may hold a CRC of the frames, is dropped, as c2pa-rs
 * drops it. Tags c2pa-rs could not read back (unsynchronised, encrypted or grouped frames, v2.2
 * compression) are refused rather than rewritten. The tag comes before the audio, so the source
 * is read twice (hash, then send).
 */

/** MIME type c2pa-rs 0.91 writes in the GEOB frame. */
export const C2PA_GEOB_MIME = 'application/c2pa';
/** The type c2pa-rs wrote before, and still reads (c2pa-ts reads only this one). */
export const C2PA_GEOB_MIME_DEPRECATED = 'application/x-c2pa-manifest-store';
const GEOB_FILE_NAME = 'c2pa';
const GEOB_DESCRIPTION = 'c2pa manifest store';

/** The largest value of a 28-bit synchsafe integer (ID3v2 tag and v2.4 frame sizes). */
const SYNCHSAFE_MAX = 0x0fff_ffff;

const ascii = (bytes: Uint8Array) => String.fromCharCode(...bytes);

/** A synchsafe integer as the `id3` crate (c2pa-rs's reader) decodes it. */
const decodeSynchsafe = (b: Uint8Array, at: number) => b[at + 3] | (b[at + 2] << 7) | (b[at + 1] << 14) | (b[at] << 21);

function encodeSynchsafe(value: number): Uint8Array {
  return Uint8Array.from([(value >>> 21) & 0x7f, (value >>> 14) & 0x7f, (value >>> 7) & 0x7f, value & 0x7f]);
}

const isC2paMime = (mime: string) => mime === C2PA_GEOB_MIME || mime === C2PA_GEOB_MIME_DEPRECATED;

/** Tag header flags (all versions), and what they mean to the `id3` crate. */
const TAG_UNSYNCHRONISATION = 0x80;
const TAG_EXTENDED_HEADER = 0x40; // v2.3+; v2.2: compression
const TAG_FOOTER = 0x10; // v2.4

interface Id3Frame {
  id: string;
  offset: number;
  /** Where the frame's content begins (after its header and any data length indicator). */
  contentOffset: number;
  end: number;
  /** Content transformed (compressed, unsynchronised): not readable as it lies. */
  transformed: boolean;
}

export interface Id3Tag {
  major: 2 | 3 | 4;
  revision: number;
  flags: number;
  /** Where the frames begin (after the header and any extended header). */
  framesStart: number;
  /** Where the frames end: the padding, if any, runs from here to `tagEnd`. */
  framesEnd: number;
  /** The end of the tag (10 + its size), before any footer. */
  tagEnd: number;
  /** The end of the tag with its footer: where the audio begins. */
  audioStart: number;
  frames: Id3Frame[];
}

/** Frame header length and frame size of each tag version. */
const frameHeaderLength = (major: number) => (major === 2 ? 6 : 10);

/**
 * Reads the ID3v2 tag at the start of an MP3 (headers only, never frame contents), or undefined
 * for an MP3 that starts with an MPEG audio frame. Anything else is not an MP3 (invalid_argument).
 */
export async function readId3Tag(source: ByteSource): Promise<Id3Tag | undefined> {
  const header = await source.read(0, 10);
  if (header.length < 10 || ascii(header.subarray(0, 3)) !== 'ID3') {
    if (header.length >= 2 && header[0] === 0xff && (header[1] & 0xe0) === 0xe0) return undefined;
    throw invalidArgument('the asset is not an MP3: it starts with neither an ID3v2 tag nor an MPEG audio frame');
  }
  const [major, revision, flags] = [header[3], header[4], header[5]];
  if (major !== 2 && major !== 3 && major !== 4) throw invalidArgument(`the MP3's ID3 tag has version 2.${major}; ID3v2.2 to 2.4 are read`);
  if ((flags & 0x0f) !== 0) throw invalidArgument(`the MP3's ID3v2 tag header has unknown flags set (0x${flags.toString(16)})`);
  if (flags & TAG_UNSYNCHRONISATION || (major === 2 && flags & TAG_EXTENDED_HEADER)) {
    throw failedPrecondition(`the MP3's ID3v2.${major} tag is ${flags & TAG_UNSYNCHRONISATION ? 'unsynchronised' : 'compressed'}; the streaming signer writes into plain tags only (re-save the tag without unsynchronisation)`, {
      details: { reason: 'streaming-unsupported' },
    });
  }
  const tagEnd = 10 + decodeSynchsafe(header, 6);
  const audioStart = tagEnd + (major === 4 && flags & TAG_FOOTER ? 10 : 0);
  if (audioStart > source.size) throw invalidArgument(`the MP3's ID3v2 tag announces ${tagEnd} bytes but the asset has ${source.size}`);
  let framesStart = 10;
  if (major >= 3 && flags & TAG_EXTENDED_HEADER) {
    const ext = await source.read(10, 4);
    // v2.3: a plain size without its own four bytes; v2.4: a synchsafe size that includes them.
    if (ext.length === 4) framesStart += major === 3 ? 4 + new DataView(ext.buffer, ext.byteOffset, 4).getUint32(0) : decodeSynchsafe(ext, 0);
    if (ext.length < 4 || framesStart > tagEnd) throw invalidArgument('the extended header of the MP3\'s ID3v2 tag runs past the end of the tag');
  }
  const headerLength = frameHeaderLength(major);
  const frames: Id3Frame[] = [];
  let at = framesStart;
  while (at < tagEnd) {
    const frameHeader = await source.read(at, Math.min(headerLength, tagEnd - at));
    if (frameHeader[0] === 0) break; // padding
    if (frameHeader.length < headerLength) throw invalidArgument(`the MP3's ID3v2 tag has a frame header at byte ${at} that runs past the end of the tag`);
    const id = ascii(frameHeader.subarray(0, headerLength === 6 ? 3 : 4));
    if (!/^[A-Z0-9]+$/.test(id)) throw invalidArgument(`the MP3's ID3v2 tag has a malformed frame at byte ${at}`);
    let size: number;
    let contentOffset = at + headerLength;
    let transformed = false;
    if (major === 2) {
      size = (frameHeader[3] << 16) | (frameHeader[4] << 8) | frameHeader[5];
    } else {
      const view = new DataView(frameHeader.buffer, frameHeader.byteOffset, 10);
      size = major === 4 ? decodeSynchsafe(frameHeader, 4) : view.getUint32(4);
      const frameFlags = view.getUint16(8);
      // What the `id3` crate refuses to read (so c2pa-rs would find no manifest in the tag).
      const [encryption, grouping, compression, unsynchronisation] = major === 4 ? [0x0004, 0x0040, 0x0008, 0x0002] : [0x0040, 0x0020, 0x0080, 0];
      if (frameFlags & (encryption | grouping)) {
        throw failedPrecondition(`the MP3's ID3v2 tag has an ${frameFlags & encryption ? 'encrypted' : 'grouped'} frame (${id}), which c2pa-rs cannot read: it would not find a manifest in this tag`, {
          details: { reason: 'streaming-unsupported' },
        });
      }
      transformed = (frameFlags & (compression | unsynchronisation)) !== 0;
      if (major === 4 && frameFlags & 0x0001) contentOffset += 4; // data length indicator
    }
    const end = at + headerLength + size;
    if (end > tagEnd || contentOffset > end) throw invalidArgument(`the MP3's ID3v2 frame "${id}" at byte ${at} runs past the end of the tag`);
    frames.push({ id, offset: at, contentOffset, end, transformed });
    at = end;
  }
  return { major: major as 2 | 3 | 4, revision, flags, framesStart, framesEnd: at, tagEnd, audioStart, frames };
}

/** Where a GEOB frame's object begins, and its MIME type (`id3` crate: encoding, Latin-1 MIME, then file name and description in the encoding). */
async function geobObject(source: ByteSource, frame: Id3Frame): Promise<{ mime: string; dataOffset: number }> {
  const head = await source.read(frame.contentOffset, Math.min(frame.end - frame.contentOffset, 512));
  const encoding = head[0];
  const mimeEnd = head.indexOf(0, 1);
  if (encoding === undefined || encoding > 3 || mimeEnd < 0) throw invalidArgument(`the MP3's ID3v2 GEOB frame at byte ${frame.offset} is malformed`);
  const mime = ascii(head.subarray(1, mimeEnd));
  let at = mimeEnd + 1;
  const wide = encoding === 1 || encoding === 2; // UTF-16: two-byte terminators
  for (let field = 0; field < 2; field++) {
    const start = at;
    for (;;) {
      if (at + (wide ? 1 : 0) >= head.length) {
        if (!isC2paMime(mime)) return { mime, dataOffset: frame.end }; // a long name in another object: its data is not needed
        throw invalidArgument(`the MP3's C2PA GEOB frame at byte ${frame.offset} is malformed`);
      }
      if (wide ? head[at] === 0 && head[at + 1] === 0 && (at - start) % 2 === 0 : head[at] === 0) break;
      at += 1;
    }
    at += wide ? 2 : 1;
  }
  return { mime, dataOffset: frame.contentOffset + at };
}

function alreadySigned(): never {
  throw failedPrecondition(
    'the audio/mpeg already carries a C2PA manifest; the streaming signer of large assets writes new manifests only (edit and update keep the old one as an ingredient, which it cannot do yet)',
    { details: { reason: 'streaming-unsupported', field: 'intent' } },
  );
}

/** The GEOB (v2.2: GEO) frame's header and fields, everything before the store. */
function geobPrefix(major: 2 | 3 | 4, storeLength: number): Uint8Array {
  const text = new TextEncoder();
  // c2pa-rs writes ID3v2.4 with UTF-8 (3); Latin-1 (0) says the same in every version.
  const fields = [Uint8Array.of(major === 4 ? 3 : 0), text.encode(C2PA_GEOB_MIME), Uint8Array.of(0), text.encode(GEOB_FILE_NAME), Uint8Array.of(0), text.encode(GEOB_DESCRIPTION), Uint8Array.of(0)];
  const fieldsLength = fields.reduce((sum, f) => sum + f.length, 0);
  const size = fieldsLength + storeLength;
  const headerLength = frameHeaderLength(major);
  const prefix = new Uint8Array(headerLength + fieldsLength);
  if (major === 2) {
    if (size > 0xff_ffff) throw failedPrecondition(`an ID3v2.2 frame holds at most 16 MiB; this manifest store needs ${size} bytes`, { details: { reason: 'id3-size' } });
    prefix.set(text.encode('GEO'), 0);
    prefix.set([size >>> 16, (size >>> 8) & 0xff, size & 0xff], 3);
  } else {
    prefix.set(text.encode('GEOB'), 0);
    if (major === 4) prefix.set(encodeSynchsafe(size), 4);
    else new DataView(prefix.buffer).setUint32(4, size);
    // flags: none
  }
  let at = headerLength;
  for (const field of fields) {
    prefix.set(field, at);
    at += field.length;
  }
  return prefix;
}

function tagHeader(magic: 'ID3' | '3DI', major: number, revision: number, flags: number, size: number): Uint8Array {
  if (size > SYNCHSAFE_MAX) throw failedPrecondition(`an ID3v2 tag holds at most 256 MiB; with the manifest store this one would be ${size} bytes`, { details: { reason: 'id3-size' } });
  const header = new Uint8Array(10);
  header.set(new TextEncoder().encode(magic), 0);
  header.set([major, revision, flags], 3);
  header.set(encodeSynchsafe(size), 6);
  return header;
}

export async function mp3Layout(source: ByteSource, _format: string): Promise<EmbeddingLayout> {
  const tag = await readId3Tag(source);
  for (const frame of tag?.frames ?? []) {
    if (frame.id !== 'GEOB' && frame.id !== 'GEO') continue;
    if (frame.transformed) {
      throw failedPrecondition(`the MP3's ID3v2 tag has a compressed or unsynchronised GEOB frame at byte ${frame.offset}; the streaming signer cannot tell whether it holds a C2PA manifest`, {
        details: { reason: 'streaming-unsupported' },
      });
    }
    if (isC2paMime((await geobObject(source, frame)).mime)) alreadySigned();
  }
  return {
    binding: 'data',
    evenStore: false,
    wrappedLength: (storeLength) => storeLength,
    // The store is the GEOB frame's object; its header and fields are a part of their own, hashed.
    wrap: (store) => store,
    parts(storeLength): OutputPart[] {
      if (tag === undefined) {
        const prefix = geobPrefix(4, storeLength);
        return [{ kind: 'bytes', bytes: tagHeader('ID3', 4, 0, 0, prefix.length + storeLength) }, { kind: 'bytes', bytes: prefix }, { kind: 'store' }, { kind: 'source', offset: 0, length: source.size }];
      }
      const prefix = geobPrefix(tag.major, storeLength);
      const size = tag.framesEnd - tag.framesStart + prefix.length + storeLength + (tag.tagEnd - tag.framesEnd);
      const flags = tag.flags & ~TAG_EXTENDED_HEADER;
      const parts: OutputPart[] = [
        { kind: 'bytes', bytes: tagHeader('ID3', tag.major, tag.revision, flags, size) },
        { kind: 'source', offset: tag.framesStart, length: tag.framesEnd - tag.framesStart },
        { kind: 'bytes', bytes: prefix },
        { kind: 'store' },
      ];
      if (tag.audioStart === tag.tagEnd) {
        parts.push({ kind: 'source', offset: tag.framesEnd, length: source.size - tag.framesEnd });
      } else {
        parts.push(
          { kind: 'source', offset: tag.framesEnd, length: tag.tagEnd - tag.framesEnd },
          { kind: 'bytes', bytes: tagHeader('3DI', tag.major, tag.revision, flags, size) },
          { kind: 'source', offset: tag.audioStart, length: source.size - tag.audioStart },
        );
      }
      return parts;
    },
  };
}

/** The manifest store of an MP3 (verification), or undefined when its tag carries none. */
export async function mp3Store(source: ByteSource, _format: string, maxStoreBytes: number): Promise<Uint8Array | undefined> {
  const tag = await readId3Tag(source);
  let found: { offset: number; length: number } | undefined;
  for (const frame of tag?.frames ?? []) {
    if (frame.id !== 'GEOB' && frame.id !== 'GEO') continue;
    if (frame.transformed) continue; // c2pa-rs writes plain frames; a transformed one is someone else's object
    const { mime, dataOffset } = await geobObject(source, frame);
    if (!isC2paMime(mime)) continue;
    if (found !== undefined) throw invalidArgument('the MP3 carries more than one C2PA manifest store');
    found = { offset: dataOffset, length: frame.end - dataOffset };
  }
  if (found === undefined) return undefined;
  if (found.length > maxStoreBytes) {
    throw failedPrecondition(`the audio/mpeg's manifest store is ${found.length} bytes, more than the ${maxStoreBytes} the mesh reads`, { details: { reason: 'manifest-store-size' } });
  }
  return source.read(found.offset, found.length);
}
