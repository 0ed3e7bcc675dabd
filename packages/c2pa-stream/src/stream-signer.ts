import { createHash } from 'node:crypto';
import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';
import type { ClaimSigner } from '@c2pa-mesh/engine';
import { readRange, type ByteSource } from './byte-source.js';
import { BMFF_EXCLUDED_BOXES, C2PA_BMFF_UUID, STREAMING_LAYOUTS, type EmbeddingLayout, type HashedRange, type OutputPart } from './layouts.js';
import { dataHashBinding, manifestStoreWriter, type HardBinding, type ManifestStoreWriter } from './manifest-store.js';

/** Pieces the source is read and the output handed on in. */
export const STREAM_CHUNK_BYTES = 1024 * 1024;

/** Canonical MIME types the streaming signer embeds manifests in. */
export const STREAMING_FORMATS: readonly string[] = Object.freeze(Object.keys(STREAMING_LAYOUTS));

export interface StreamSigningOptions {
  /** Canonical MIME type (see STREAMING_FORMATS). */
  format: string;
  source: ByteSource;
  /** The manifest definition, checked, with the create intent applied. */
  manifestDefinition: string;
  signer: ClaimSigner;
  chunkBytes?: number;
}

export interface StreamSigningResult {
  manifestLabel: string;
  /** `sha256:<hex>` of the signed asset. */
  signedAssetSha256: string;
  signedAssetBytes: number;
  /** The manifest store as embedded (without the format's wrapping). */
  manifestStore: Uint8Array;
  /** The hard binding as written. */
  binding: HardBinding;
}

export interface StreamSigning {
  manifestLabel: string;
  /** Length of the signed asset. */
  outputBytes: number;
  /**
   * The signed asset, in order. Formats whose store follows the media are hashed as they are
   * sent (one read of the source); where the store comes first the source is read twice (hash,
   * then send). The claim is signed once the hash is known.
   */
  output(): AsyncGenerator<Uint8Array>;
  /** Available once output() has been read to its end. */
  result(): StreamSigningResult;
}

const lengthOf = (part: OutputPart, storeLength: number) => (part.kind === 'source' ? part.length : part.kind === 'bytes' ? part.bytes.length : storeLength);

/** `c2pa.hash.bmff.v3` as c2pa-rs writes it for a file without Merkle trees. */
export function bmffHashBinding(hash: Uint8Array): HardBinding {
  return {
    label: 'c2pa.hash.bmff.v3',
    data: new Map<string, unknown>([
      [
        'exclusions',
        [
          new Map<string, unknown>([['xpath', '/uuid'], ['data', [new Map<string, unknown>([['offset', 8], ['value', C2PA_BMFF_UUID]])]]]),
          ...BMFF_EXCLUDED_BOXES.map((type) => new Map([['xpath', `/${type}`]])),
        ],
      ],
      ['alg', 'sha256'],
      ['hash', hash],
      ['name', 'jumbf manifest'],
    ]),
  };
}

/** The room a store takes: its length, wrapped in the format, and the binding to sign for a hash. */
export interface StoreRoom {
  wrapped: number;
  storeLength: number;
  bindingFor(hash: Uint8Array): HardBinding;
}

interface SizedStore extends StoreRoom {
  parts: OutputPart[];
  hashedRanges: HashedRange[];
}

/** A BMFF hash names boxes, not offsets: the store's length depends on the manifest alone. */
export function bmffStoreRoom(writer: ManifestStoreWriter, wrappedLength: (storeLength: number) => number): StoreRoom {
  const storeLength = writer.storeLength(bmffHashBinding(new Uint8Array(32)));
  return { storeLength, wrapped: wrappedLength(storeLength), bindingFor: bmffHashBinding };
}

/**
 * Sizes the store. For a data hash the exclusion (where the store is, how long) is inside the
 * store, so a few rounds reach the fixed point; the data hash's pad field absorbs what keeps the
 * store from the parity the layout needs. A BMFF hash names boxes, not offsets.
 */
export function sizeStore(layout: EmbeddingLayout, writer: ManifestStoreWriter): SizedStore {
  const zeroHash = new Uint8Array(32);
  if (layout.binding === 'bmff') {
    const room = bmffStoreRoom(writer, layout.wrappedLength);
    const parts = layout.parts(room.wrapped);
    return { ...room, parts, hashedRanges: layout.hashedRanges!(parts) };
  }
  let wrapped = layout.wrappedLength(4096);
  for (let round = 0; round < 8; round++) {
    const parts = layout.parts(wrapped);
    const storeIndex = parts.findIndex((p) => p.kind === 'store');
    const start = parts.slice(0, storeIndex).reduce((sum, p) => sum + lengthOf(p, wrapped), 0);
    for (const padLength of [8, 9]) {
      const binding = (hash: Uint8Array) => dataHashBinding({ exclusions: [{ start, length: wrapped }], hash, padLength });
      const storeLength = writer.storeLength(binding(zeroHash));
      if (layout.evenStore && storeLength % 2 === 1) continue;
      const needed = layout.wrappedLength(storeLength);
      if (needed === wrapped) {
        // Every byte but the store's, in order.
        const hashedRanges: HashedRange[] = [];
        let at = 0;
        for (const part of parts) {
          const length = lengthOf(part, wrapped);
          if (part.kind !== 'store' && length > 0) hashedRanges.push({ offset: at, length, withOffset: false });
          at += length;
        }
        return { parts, wrapped, storeLength, bindingFor: binding, hashedRanges };
      }
      wrapped = needed;
      break;
    }
  }
  throw failedPrecondition('could not lay out the manifest store in the asset; report this with the asset format');
}

/**
 * Hashes the ranges of the signed asset the hard binding covers, fed the asset's bytes in order
 * with their offsets (BMFF v2+: each box's offset as a 64-bit big-endian number before it).
 */
function rangeHasher(ranges: readonly HashedRange[]) {
  const hash = createHash('sha256');
  let next = 0;
  /** The offset of ranges[next] is hashed already (it began in an earlier chunk). */
  let offsetHashed = false;
  return {
    update(chunk: Uint8Array, offset: number) {
      const end = offset + chunk.length;
      while (next < ranges.length && ranges[next].offset < end) {
        const range = ranges[next];
        const rangeEnd = range.offset + range.length;
        if (range.withOffset && !offsetHashed) {
          const prefix = new Uint8Array(8);
          new DataView(prefix.buffer).setBigUint64(0, BigInt(range.offset));
          hash.update(prefix);
        }
        const from = Math.max(range.offset, offset);
        const to = Math.min(rangeEnd, end);
        if (to > from) hash.update(chunk.subarray(from - offset, to - offset));
        if (rangeEnd > end) {
          offsetHashed = true; // the range goes on in the next chunk
          break;
        }
        next++;
        offsetHashed = false;
      }
    },
    digest: () => new Uint8Array(hash.digest()),
  };
}

/** Whether the ranges are every byte of `[0, end)` in order, without offsets (a data hash before a store at the end). */
function hashesPrefix(ranges: readonly HashedRange[], end: number): boolean {
  let at = 0;
  for (const range of ranges) {
    if (range.withOffset || range.offset !== at) return false;
    at += range.length;
  }
  return at === end;
}

/** The store for the hard binding's hash, signed and wrapped; it must fill exactly the room laid out. */
export async function signStore(
  writer: ManifestStoreWriter,
  signer: ClaimSigner,
  room: StoreRoom,
  wrap: (store: Uint8Array) => Uint8Array,
  hash: Uint8Array,
): Promise<{ wrapped: Uint8Array; store: Uint8Array; binding: HardBinding }> {
  const binding = room.bindingFor(hash);
  const claim = writer.claim(binding);
  const signature = await signer.sign(claim);
  const store = writer.store(binding, claim, signature);
  const wrapped = wrap(store);
  if (store.length !== room.storeLength || wrapped.length !== room.wrapped) {
    throw failedPrecondition('the signed manifest store does not fill the room laid out for it; report this with the asset format');
  }
  return { wrapped, store, binding };
}

export async function prepareStreamSigning(options: StreamSigningOptions): Promise<StreamSigning> {
  const makeLayout = STREAMING_LAYOUTS[options.format];
  if (makeLayout === undefined) {
    throw failedPrecondition(`the streaming signer of large assets does not write ${options.format} yet; it writes ${STREAMING_FORMATS.join(', ')}`, {
      details: { reason: 'streaming-unsupported', field: 'format' },
    });
  }
  const chunkBytes = options.chunkBytes ?? STREAM_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes <= 0) throw invalidArgument('chunkBytes must be a positive integer');
  const layout = await makeLayout(options.source, options.format);
  const writer = manifestStoreWriter(options.manifestDefinition, { signatureReserveSize: options.signer.reserveSize });
  const sized = sizeStore(layout, writer);
  const outputBytes = sized.parts.reduce((sum, p) => sum + lengthOf(p, sized.wrapped), 0);
  const storeLast = sized.parts[sized.parts.length - 1]?.kind === 'store';
  const prefixHashed = storeLast && hashesPrefix(sized.hashedRanges, outputBytes - sized.wrapped);
  let result: StreamSigningResult | undefined;

  async function* media(parts: OutputPart[]): AsyncGenerator<Uint8Array> {
    for (const part of parts) {
      if (part.kind === 'bytes') yield part.bytes;
      else if (part.kind === 'source') yield* readRange(options.source, part.offset, part.length, chunkBytes);
    }
  }

  const signedStore = (hash: Uint8Array) => signStore(writer, options.signer, sized, layout.wrap, hash);

  return {
    manifestLabel: writer.manifestLabel,
    outputBytes,
    async *output() {
      const outputHash = createHash('sha256');
      let sent = 0;
      const send = (chunk: Uint8Array) => {
        outputHash.update(chunk);
        sent += chunk.length;
        return chunk;
      };
      let signed: Awaited<ReturnType<typeof signedStore>>;
      if (storeLast && prefixHashed) {
        // The binding hashes exactly the bytes before the store, which the output hash has
        // seen too: one pass, the binding's digest taken from a copy of the output hash.
        for await (const chunk of media(sized.parts)) yield send(chunk);
        signed = await signedStore(new Uint8Array(outputHash.copy().digest()));
        yield send(signed.wrapped);
      } else if (storeLast) {
        const hasher = rangeHasher(sized.hashedRanges);
        for await (const chunk of media(sized.parts)) {
          hasher.update(chunk, sent);
          yield send(chunk);
        }
        signed = await signedStore(hasher.digest());
        yield send(signed.wrapped);
      } else {
        // The store comes first: hash the media (where it will be) before sending any of it.
        const hasher = rangeHasher(sized.hashedRanges);
        let at = 0;
        for (const part of sized.parts) {
          if (part.kind === 'store') {
            at += sized.wrapped;
            continue;
          }
          for await (const chunk of media([part])) {
            hasher.update(chunk, at);
            at += chunk.length;
          }
        }
        signed = await signedStore(hasher.digest());
        for (const part of sized.parts) {
          if (part.kind === 'store') yield send(signed.wrapped);
          else yield* (async function* () {
            for await (const chunk of media([part])) yield send(chunk);
          })();
        }
      }
      if (sent !== outputBytes) throw failedPrecondition(`the asset changed while it was signed (${sent} bytes sent, ${outputBytes} laid out)`);
      result = {
        manifestLabel: writer.manifestLabel,
        signedAssetSha256: `sha256:${outputHash.digest('hex')}`,
        signedAssetBytes: sent,
        manifestStore: signed.store,
        binding: signed.binding,
      };
    },
    result() {
      if (result === undefined) throw failedPrecondition('the signed asset has not been read to its end');
      return result;
    },
  };
}

/**
 * A manifest store on its own (a `.c2pa` sidecar) whose hard binding is the SHA-256 of a whole
 * file the signer never sees: `c2pa.hash.data` without exclusions. A validator reading the file
 * with this store as its external manifest recomputes the same hash.
 */
export async function signDetachedManifestStore(options: { manifestDefinition: string; signer: ClaimSigner; contentSha256: Uint8Array }): Promise<{ manifestLabel: string; manifestStore: Uint8Array }> {
  if (options.contentSha256.length !== 32) throw invalidArgument('the content hash must be a SHA-256 digest (32 bytes)');
  const writer = manifestStoreWriter(options.manifestDefinition, { signatureReserveSize: options.signer.reserveSize });
  const binding = dataHashBinding({ exclusions: [], hash: options.contentSha256, padLength: 8 });
  const claim = writer.claim(binding);
  const signature = await options.signer.sign(claim);
  return { manifestLabel: writer.manifestLabel, manifestStore: writer.store(binding, claim, signature) };
}
