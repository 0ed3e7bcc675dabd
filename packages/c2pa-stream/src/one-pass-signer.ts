import { createHash, type Hash } from 'node:crypto';
import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';
import type { ClaimSigner } from '@c2pa-mesh/engine';
import {
  BMFF_EXCLUDED_BOXES,
  BMFF_HEADER_BYTES,
  bmffBoxHeader,
  bmffLayout,
  bmffManifestBox,
  riffChunkEnd,
  riffDeclaredBytes,
  riffLayout,
  riffLayoutOf,
  STREAMING_LAYOUTS,
} from './layouts.js';
import { manifestStoreWriter, type ManifestStoreWriter } from './manifest-store.js';
import { bmffStoreRoom, signStore, sizeStore, type StoreRoom, type StreamSigningResult } from './stream-signer.js';

/**
 * Signing while the asset arrives, for the formats whose signed asset is the asset itself
 * (patched at most in its first bytes) followed by the manifest store: RIFF (the C2PA chunk
 * after the last chunk, the RIFF size patched) and ISO BMFF (the C2PA box after the last box).
 * Where the store goes and how long it is are known before the media arrives (RIFF: from the
 * size its header announces; BMFF: from the manifest alone), so the hard binding is hashed as the
 * bytes go past, in one pass, and everything but the store can be sent on at once. Formats whose
 * store comes before the media (JPEG, PNG) need the whole asset first: prepareStreamSigning.
 */

/** The formats the streaming signer lays out as RIFF, or as ISO BMFF. */
const formatsLaidOutBy = (layout: (typeof STREAMING_LAYOUTS)[string]) => Object.keys(STREAMING_LAYOUTS).filter((format) => STREAMING_LAYOUTS[format] === layout);
const RIFF_FORMATS = formatsLaidOutBy(riffLayout);
const BMFF_FORMATS = formatsLaidOutBy(bmffLayout);

/** Canonical MIME types signed in one pass. */
export const ONE_PASS_FORMATS: readonly string[] = Object.freeze([...RIFF_FORMATS, ...BMFF_FORMATS]);

export interface OnePassSigningOptions {
  format: string;
  /** The manifest definition, checked, with the create intent applied. */
  manifestDefinition: string;
  signer: ClaimSigner;
  /**
   * A SHA-256 the caller updates with every byte of the asset, in the order update() is given
   * them (the upload's own hash): for BMFF, whose signed asset begins with the asset unchanged,
   * the signed asset's hash continues a copy of it instead of hashing the bytes again. Without it
   * the signer keeps its own.
   */
  inputHash?: Hash;
}

export interface OnePassSigning {
  manifestLabel: string;
  /** The asset's bytes, in order, as they arrive: checks its structure and hashes them. */
  update(chunk: Uint8Array): void;
  /**
   * How many bytes from the start of the signed asset are known: as many as the asset's so far,
   * once its header is in (RIFF: 12 bytes).
   */
  readonly ready: number;
  /**
   * The signed asset's bytes at `offset` (below `ready`), given the asset's bytes at the same
   * offset: the same bytes, but for the RIFF size. Copies only what it changes.
   */
  outputAt(chunk: Uint8Array, offset: number): Uint8Array;
  /**
   * Once the asset has ended: checks that it ended where its structure says, signs the claim;
   * `store` is the signed asset's last piece (the wrapped manifest store).
   */
  finish(): Promise<{ store: Uint8Array; result: StreamSigningResult }>;
}

/** Collects a header that may arrive split across chunks. */
class HeaderBytes {
  private bytes = new Uint8Array(BMFF_HEADER_BYTES);
  length = 0;
  /** Takes up to `wanted` bytes in all from `chunk` at `from`; returns how many it took. */
  take(chunk: Uint8Array, from: number, wanted: number): number {
    const n = Math.max(0, Math.min(wanted - this.length, chunk.length - from));
    this.bytes.set(chunk.subarray(from, from + n), this.length);
    this.length += n;
    return n;
  }
  view = () => this.bytes.subarray(0, this.length);
  clear() {
    this.length = 0;
  }
}

export function prepareOnePassSigning(options: OnePassSigningOptions): OnePassSigning {
  const { format } = options;
  const riff = RIFF_FORMATS.includes(format);
  if (!riff && !BMFF_FORMATS.includes(format)) throw failedPrecondition(`${format} cannot be signed in one pass; it signs ${ONE_PASS_FORMATS.join(', ')}`);
  const writer = manifestStoreWriter(options.manifestDefinition, { signatureReserveSize: options.signer.reserveSize });
  const signing = riff ? riffPass(format, writer) : bmffPass(format, writer, options.inputHash);
  return {
    manifestLabel: writer.manifestLabel,
    update: (chunk) => signing.update(chunk),
    get ready() {
      return signing.ready();
    },
    outputAt: (chunk, offset) => signing.outputAt(chunk, offset),
    async finish() {
      const { room, wrap, bindingHash, outputHash, inputBytes } = signing.finish();
      const signed = await signStore(writer, options.signer, room, wrap, bindingHash);
      outputHash.update(signed.wrapped);
      return {
        store: signed.wrapped,
        result: {
          manifestLabel: writer.manifestLabel,
          signedAssetSha256: `sha256:${outputHash.digest('hex')}`,
          signedAssetBytes: inputBytes + signed.wrapped.length,
          manifestStore: signed.store,
          binding: signed.binding,
        },
      };
    },
  };
}

interface FormatPass {
  update(chunk: Uint8Array): void;
  ready(): number;
  outputAt(chunk: Uint8Array, offset: number): Uint8Array;
  /** The room laid out, and the hashes: the binding's, and the signed asset's so far. */
  finish(): { room: StoreRoom; wrap: (store: Uint8Array) => Uint8Array; bindingHash: Uint8Array; outputHash: Hash; inputBytes: number };
}

/**
 * RIFF: the store's room is laid out from the 12-byte header exactly as for a spooled file
 * (sizeStore: the exclusion starts where the announced file ends); the data hash covers every
 * byte before the store, so the signed asset's hash and the binding's are one hash, the binding
 * taken from a copy of it.
 */
function riffPass(format: string, writer: ManifestStoreWriter): FormatPass {
  const header = new HeaderBytes();
  let laidOut: { declared: number; patched: Uint8Array; sized: ReturnType<typeof sizeStore>; wrap: (store: Uint8Array) => Uint8Array } | undefined;
  const outputHash = createHash('sha256');
  let received = 0;
  /** The next chunk header's offset, and its bytes as they arrive. */
  let nextChunk = 12;
  const chunkHeader = new HeaderBytes();

  /** Reads the chunk headers in a piece of the asset at `pieceOffset` (one may have begun in the piece before). */
  const walk = (piece: Uint8Array, pieceOffset: number, declared: number) => {
    while (nextChunk < declared) {
      const from = nextChunk + chunkHeader.length - pieceOffset;
      if (from >= piece.length) return;
      chunkHeader.take(piece, from, 8);
      if (chunkHeader.length < 8) return;
      nextChunk = riffChunkEnd(chunkHeader.view(), nextChunk, declared, format);
      chunkHeader.clear();
    }
  };

  return {
    update(chunk) {
      const offset = received;
      received += chunk.length;
      if (laidOut === undefined) {
        header.take(chunk, 0, 12);
        if (header.length < 12) return;
        const head = header.view().slice();
        const layout = riffLayoutOf(head, format);
        const sized = sizeStore(layout, writer);
        const patched = (sized.parts[0] as { kind: 'bytes'; bytes: Uint8Array }).bytes;
        laidOut = { declared: riffDeclaredBytes(head, format), patched, sized, wrap: layout.wrap };
        outputHash.update(patched);
        // What of this piece follows the header.
        const rest = chunk.subarray(12 - offset);
        if (received > laidOut.declared) tooLong(laidOut.declared);
        outputHash.update(rest);
        walk(rest, 12, laidOut.declared);
        return;
      }
      if (received > laidOut.declared) tooLong(laidOut.declared);
      outputHash.update(chunk);
      walk(chunk, offset, laidOut.declared);
    },
    ready: () => (laidOut === undefined ? 0 : received),
    outputAt(chunk, offset) {
      if (laidOut === undefined || offset + chunk.length > received) throw new Error('the signed asset is not known that far yet');
      if (offset >= 12) return chunk;
      const patched = chunk.slice();
      patched.set(laidOut.patched.subarray(offset, Math.min(12, offset + chunk.length)), 0);
      return patched;
    },
    finish() {
      if (laidOut === undefined) throw invalidArgument(`the asset is not a RIFF file (${format})`);
      if (received !== laidOut.declared) {
        throw invalidArgument(`the RIFF header announces ${laidOut.declared} bytes but the asset has ${received}; the file is truncated or has trailing data`);
      }
      if (nextChunk !== laidOut.declared) throw invalidArgument(`a RIFF chunk header at byte ${nextChunk} runs past the end of the asset`);
      return { room: laidOut.sized, wrap: laidOut.wrap, bindingHash: new Uint8Array(outputHash.copy().digest()), outputHash, inputBytes: received };
    },
  };

  function tooLong(declared: number): never {
    throw invalidArgument(`the RIFF header announces ${declared} bytes but the asset has more; the file has trailing data`);
  }
}

/**
 * BMFF: the top-level box headers are parsed as they go past, and each box the hash covers is
 * hashed after its offset (c2pa.hash.bmff.v3) as it arrives; the boxes ftyp, free, skip and
 * mfra are left out as c2pa-rs leaves them out. The C2PA box goes after the last box, so no
 * offset in the file changes and the signed asset begins with the asset unchanged.
 */
function bmffPass(format: string, writer: ManifestStoreWriter, inputHash: Hash | undefined): FormatPass {
  const room = bmffStoreRoom(writer, bmffManifestBox.wrappedLength);
  const ownHash = inputHash === undefined ? createHash('sha256') : undefined;
  const plainHash = inputHash ?? ownHash!;
  const boxHash = createHash('sha256');
  let received = 0;
  /** The current box: where it starts, ends (once its header is read) and whether it is hashed. */
  let boxStart = 0;
  let boxEnd: number | undefined;
  let hashed = false;
  const header = new HeaderBytes();

  return {
    update(chunk) {
      ownHash?.update(chunk);
      let at = 0;
      while (at < chunk.length) {
        const position = received + at;
        if (boxEnd === undefined) {
          // Collect the header: as much as there is, up to what the largest header needs.
          const took = header.take(chunk, at, BMFF_HEADER_BYTES);
          const box = bmffBoxHeader(header.view(), boxStart, format, false);
          if (box === undefined) {
            at += took;
            continue;
          }
          boxEnd = boxStart + box.size;
          hashed = !BMFF_EXCLUDED_BOXES.includes(box.type);
          if (hashed) {
            const offset = new Uint8Array(8);
            new DataView(offset.buffer).setBigUint64(0, BigInt(boxStart));
            boxHash.update(offset);
          }
          // Bytes taken beyond this box's end (a box shorter than the header read) go back to the next box.
          const previous = header.length - took;
          const inBox = Math.min(header.length, box.size);
          if (hashed) boxHash.update(header.view().subarray(0, inBox));
          header.clear();
          // Bytes of earlier pieces in the header were all short of a whole header, so inBox > previous.
          at += inBox - previous;
          if (boxStart + inBox === boxEnd) {
            boxStart = boxEnd;
            boxEnd = undefined;
          }
          continue;
        }
        const n = Math.min(chunk.length - at, boxEnd - position);
        if (hashed) boxHash.update(chunk.subarray(at, at + n));
        at += n;
        if (received + at === boxEnd) {
          boxStart = boxEnd;
          boxEnd = undefined;
        }
      }
      received += chunk.length;
    },
    ready: () => received,
    outputAt: (chunk) => chunk,
    finish() {
      if (boxEnd !== undefined) throw invalidArgument(`the ${format} box at byte ${boxStart} runs past the end of the asset`);
      if (header.length > 0) {
        // A header cut short: refused with what it shows (a box that cannot be signed, or one that runs past the end).
        bmffBoxHeader(header.view(), boxStart, format, true);
        throw invalidArgument(`the ${format} has a box header at byte ${boxStart} that runs past the end of the asset`);
      }
      if (received === 0) throw invalidArgument(`the asset is not an ISO BMFF file (${format}): it is empty`);
      return { room, wrap: bmffManifestBox.wrap, bindingHash: new Uint8Array(boxHash.digest()), outputHash: plainHash.copy(), inputBytes: received };
    },
  };
}
