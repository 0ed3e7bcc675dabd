import { createHash } from 'node:crypto';
import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';
import type { ClaimSigner } from '@c2pa-mesh/engine';
import { readRange, type ByteSource } from './byte-source.js';
import { STREAMING_LAYOUTS, type EmbeddingLayout, type OutputPart } from './layouts.js';
import { manifestStoreWriter, type DataHash, type ManifestStoreWriter } from './manifest-store.js';

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
  dataHash: DataHash;
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

/**
 * Sizes the store (its length fixes the exclusion, which is inside the store: a few rounds reach
 * the fixed point), then returns the signing to be streamed.
 */
function sizeStore(layout: EmbeddingLayout, writer: ManifestStoreWriter) {
  const zeroHash = new Uint8Array(32);
  let wrapped = layout.wrappedLength(4096);
  for (let round = 0; round < 8; round++) {
    const parts = layout.parts(wrapped);
    const storeIndex = parts.findIndex((p) => p.kind === 'store');
    const start = parts.slice(0, storeIndex).reduce((sum, p) => sum + lengthOf(p, wrapped), 0);
    // The pad field absorbs what keeps the store from its required parity.
    for (const padLength of [8, 9]) {
      const dataHash: DataHash = { exclusions: [{ start, length: wrapped }], hash: zeroHash, padLength };
      const storeLength = writer.storeLength(dataHash);
      if (layout.evenStore && storeLength % 2 === 1) continue;
      const needed = layout.wrappedLength(storeLength);
      if (needed === wrapped) return { parts, start, wrapped, storeLength, padLength };
      wrapped = needed;
      break;
    }
  }
  throw failedPrecondition('could not lay out the manifest store in the asset; report this with the asset format');
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
  let result: StreamSigningResult | undefined;

  async function* media(parts: OutputPart[]): AsyncGenerator<Uint8Array> {
    for (const part of parts) {
      if (part.kind === 'bytes') yield part.bytes;
      else if (part.kind === 'source') yield* readRange(options.source, part.offset, part.length, chunkBytes);
    }
  }

  async function signedStore(hash: Uint8Array): Promise<{ wrapped: Uint8Array; store: Uint8Array; dataHash: DataHash }> {
    const dataHash: DataHash = { exclusions: [{ start: sized.start, length: sized.wrapped }], hash, padLength: sized.padLength };
    const claim = writer.claim(dataHash);
    const signature = await options.signer.sign(claim);
    const store = writer.store(dataHash, claim, signature);
    const wrapped = layout.wrap(store);
    if (store.length !== sized.storeLength || wrapped.length !== sized.wrapped) {
      throw failedPrecondition('the signed manifest store does not fill the room laid out for it; report this with the asset format');
    }
    return { wrapped, store, dataHash };
  }

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
      if (storeLast) {
        const dataHasher = createHash('sha256');
        for await (const chunk of media(sized.parts)) {
          dataHasher.update(chunk);
          yield send(chunk);
        }
        signed = await signedStore(new Uint8Array(dataHasher.digest()));
        yield send(signed.wrapped);
      } else {
        const dataHasher = createHash('sha256');
        for await (const chunk of media(sized.parts)) dataHasher.update(chunk);
        signed = await signedStore(new Uint8Array(dataHasher.digest()));
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
        dataHash: signed.dataHash,
      };
    },
    result() {
      if (result === undefined) throw failedPrecondition('the signed asset has not been read to its end');
      return result;
    },
  };
}
