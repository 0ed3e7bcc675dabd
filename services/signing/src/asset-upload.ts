import { createHash, type Hash } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
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
  /**
   * An upload larger than `thresholdBytes` is written to a file in a new private directory under
   * `dir` instead of memory (from the start when `total_size` announces it).
   */
  spool?: {
    thresholdBytes: number;
    dir: string;
    /**
     * Called when the spool is created, with its path; returns a sink given every byte of the
     * upload in order (what came before the spool first) once it is written to the file and has
     * passed the upload's checks. What either throws refuses the upload (the spool is removed).
     */
    onSpool?: (path: string) => (chunk: Uint8Array) => void;
  };
  /** The SHA-256 to update with the upload (it is digested from a copy); a new one by default. */
  hash?: Hash;
  /** The call's signal: a caller who goes away mid-upload ends the receiving (and the spool). */
  signal?: AbortSignal;
}

/** The next message, or a rejection as soon as the call is aborted (a cancelled stream may never end). */
function nextOrAbort<T>(messages: AsyncIterator<T>, signal: AbortSignal | undefined): Promise<IteratorResult<T>> {
  if (signal === undefined) return messages.next();
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('the call was cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    messages.next().then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export interface UploadedAsset {
  asset: Uint8Array;
  /** `sha256:<hex>` of the asset, computed while it arrived. */
  sha256: string;
}

export interface SpooledAsset {
  /** The file holding the asset (mode 0600, in a directory of its own). */
  path: string;
  size: number;
  sha256: string;
  /** Removes the file and its directory; safe to call more than once. */
  remove(): Promise<void>;
}

/**
 * A file under the data dir for one upload, removed by `remove()` (the caller's `finally`) or
 * here when receiving fails.
 */
async function createSpool(dir: string): Promise<{ path: string; handle: FileHandle; remove: () => Promise<void> }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const own = await mkdtemp(path.join(dir, 'upload-'));
  const remove = () => rm(own, { recursive: true, force: true });
  try {
      const file = path.join(own, 'asset');
      return { path: file, handle: await open(file, 'wx', 0o600), remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/**
 * Receives the chunks that follow SignStream's options into one contiguous asset (the engine
 * needs it whole), hashing as they come. Refuses as soon as the upload breaks a rule: above the
 * caller's limit (resource_exhausted, without reading further), beyond the announced total, or
 * a first few kilobytes that are not of the declared format. With `total_size` announced the
 * asset goes straight into one buffer of that size; otherwise the chunks are joined at the end.
 */
export async function receiveAsset(messages: AsyncIterator<signingV1.SignStreamRequest>, limits: UploadLimits): Promise<UploadedAsset | SpooledAsset> {
  const hash = limits.hash ?? createHash('sha256');
  const spoolAbove = limits.spool?.thresholdBytes ?? Infinity;
  const preallocated = limits.declaredBytes > 0 && limits.declaredBytes <= spoolAbove ? new Uint8Array(limits.declaredBytes) : undefined;
  const chunks: Uint8Array[] = [];
  let received = 0;
  let headChecked = false;
  const head = new Uint8Array(HEAD_BYTES);
  let spool: Awaited<ReturnType<typeof createSpool>> | undefined;
  let sink: ((chunk: Uint8Array) => void) | undefined;
  /** Chunks on disk not given to the sink yet. */
  const unsunk: Uint8Array[] = [];
  try {
  for (let next = await nextOrAbort(messages, limits.signal); !next.done; next = await nextOrAbort(messages, limits.signal)) {
    const payload = next.value.payload;
    if (payload.case === 'options') {
      throw invalidArgument('options may only be sent in the first SignStream message; the ones that follow carry chunks', { details: { field: 'options' } });
    }
    if (payload.case !== 'chunk') throw invalidArgument('a SignStream message after the options must carry a chunk', { details: { field: 'chunk' } });
    const chunk = payload.value;
    if (chunk.length === 0) continue;
    const total = received + chunk.length;
    if (total > limits.maxBytes) throw tooLarge('more', limits.maxBytes);
    if (limits.declaredBytes > 0 && total > limits.declaredBytes) {
      throw invalidArgument(`received more than the ${limits.declaredBytes} bytes total_size announced`, { details: { field: 'total_size' } });
    }
    if (spool === undefined && limits.spool !== undefined && (total > spoolAbove || limits.declaredBytes > spoolAbove)) {
      // From here on the asset goes to disk: what came so far first.
      spool = await createSpool(limits.spool.dir);
      sink = limits.spool.onSpool?.(spool.path);
      for (const earlier of chunks) await writeAll(spool.handle, earlier);
      if (sink !== undefined) unsunk.push(...chunks);
      chunks.length = 0;
    }
    if (spool !== undefined) {
      await writeAll(spool.handle, chunk);
      if (sink !== undefined) unsunk.push(chunk);
    } else if (preallocated !== undefined) {
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
    if (sink !== undefined) {
      for (const written of unsunk) sink(written);
      unsunk.length = 0;
    }
  }

  if (limits.declaredBytes > 0 && received !== limits.declaredBytes) {
    throw invalidArgument(`received ${received} bytes but total_size announced ${limits.declaredBytes}; the upload is incomplete`, {
      details: { field: 'total_size' },
    });
  }
  checkAssetSize(received, limits.maxBytes);
  if (spool !== undefined) {
    await spool.handle.close();
    return { path: spool.path, size: received, sha256: `sha256:${hash.copy().digest('hex')}`, remove: spool.remove };
  }
  const asset = preallocated ?? joinChunks(chunks, received);
  chunks.length = 0;
  if (!headChecked) checkMagicBytes(limits.format, asset);
  return { asset, sha256: `sha256:${hash.copy().digest('hex')}` };
  } catch (error) {
    if (spool !== undefined) {
      await spool.handle.close().catch(() => undefined);
      await spool.remove();
    }
    throw error;
  }
}

export const isSpooled = (upload: UploadedAsset | SpooledAsset): upload is SpooledAsset => 'path' in upload;

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let at = 0; at < chunk.length; ) {
    const { bytesWritten } = await handle.write(chunk, at, chunk.length - at);
    at += bytesWritten;
  }
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
