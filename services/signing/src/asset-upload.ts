import { createHash } from 'node:crypto';
import { invalidArgument } from '@c2pa-mesh/errors';
import type { signingV1 } from '@c2pa-mesh/proto';
import { checkAssetSize, checkMagicBytes, tooLarge } from './sign-request-rules.js';

/** Bytes enough to tell every supported format by its magic numbers (SVG's preamble is the longest). */
const HEAD_BYTES = 4096;

export interface UploadLimits {
  /** The caller's size limit. */
  maxBytes: number;
  /** `total_size` from the options; 0 when the caller did not say. */
  declaredBytes: number;
  /** Canonical format the magic bytes must match. */
  format: string;
  /** Told the running total after every chunk (for the audit record). */
  onProgress?: (receivedBytes: number) => void;
}

export interface UploadedAsset {
  asset: Uint8Array;
  /** `sha256:<hex>` of the asset, computed while it arrived. */
  sha256: string;
}

/**
 * Receives the chunks that follow SignStream's options into one contiguous asset (the engine
 * needs it whole), hashing as they come. Refuses as soon as the upload breaks a rule: above the
 * caller's limit (resource_exhausted, without reading further), beyond the announced total, or
 * a first few kilobytes that are not of the declared format. With `total_size` announced the
 * asset goes straight into one buffer of that size; otherwise the chunks are joined at the end.
 */
export async function receiveAsset(messages: AsyncIterator<signingV1.SignStreamRequest>, limits: UploadLimits): Promise<UploadedAsset> {
  const hash = createHash('sha256');
  const preallocated = limits.declaredBytes > 0 ? new Uint8Array(limits.declaredBytes) : undefined;
  const chunks: Uint8Array[] = [];
  let received = 0;
  let headChecked = false;
  const head = new Uint8Array(HEAD_BYTES);

  for (let next = await messages.next(); !next.done; next = await messages.next()) {
    const payload = next.value.payload;
    if (payload.case === 'options') {
      throw invalidArgument('options may only be sent in the first SignStream message; the ones that follow carry chunks', { details: { field: 'options' } });
    }
    if (payload.case !== 'chunk') throw invalidArgument('a SignStream message after the options must carry a chunk', { details: { field: 'chunk' } });
    const chunk = payload.value;
    if (chunk.length === 0) continue;
    const total = received + chunk.length;
    if (total > limits.maxBytes) throw tooLarge('more', limits.maxBytes);
    if (preallocated !== undefined) {
      if (total > preallocated.length) {
        throw invalidArgument(`received more than the ${preallocated.length} bytes total_size announced`, { details: { field: 'total_size' } });
      }
      preallocated.set(chunk, received);
    } else {
      chunks.push(chunk);
    }
    if (received < HEAD_BYTES) head.set(chunk.subarray(0, HEAD_BYTES - received), received);
    hash.update(chunk);
    received = total;
    limits.onProgress?.(received);
    if (!headChecked && received >= HEAD_BYTES && !startsWithId3(head)) {
      checkMagicBytes(limits.format, head);
      headChecked = true;
    }
  }

  if (preallocated !== undefined && received !== preallocated.length) {
    throw invalidArgument(`received ${received} bytes but total_size announced ${preallocated.length}; the upload is incomplete`, {
      details: { field: 'total_size' },
    });
  }
  checkAssetSize(received, limits.maxBytes);
  const asset = preallocated ?? joinChunks(chunks, received);
  chunks.length = 0;
  if (!headChecked) checkMagicBytes(limits.format, asset);
  return { asset, sha256: `sha256:${hash.digest('hex')}` };
}

/** An ID3v2 tag (MP3, sometimes FLAC) can be longer than the head: what follows it decides. */
const startsWithId3 = (bytes: Uint8Array) => bytes[0] === 0x49 && bytes[1] === 0x44 && bytes[2] === 0x33;

function joinChunks(chunks: Uint8Array[], length: number): Uint8Array {
  const joined = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    joined.set(chunk, at);
    at += chunk.length;
  }
  return joined;
}
