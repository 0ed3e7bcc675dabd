import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { ONE_PASS_FORMATS, prepareOnePassSigning, type OnePassSigning } from '@c2pa-mesh/c2pa-stream';
import type { signingV1 } from '@c2pa-mesh/proto';
import type { AssetSigningPlan } from './asset-signing.js';
import { isSpooled, receiveAsset, type SpooledAsset, type UploadedAsset, type UploadLimits } from './asset-upload.js';
import { createMeshClaimSigner } from './claim-signer.js';
import type { SigningContext } from './deps.js';
import { registerAndFinish, signedChunks, streamingDefinition } from './streaming-signing.js';

/**
 * SignStream of a large RIFF or BMFF asset in one pass: the signed asset is the upload (RIFF:
 * its size patched) followed by the manifest store, so the hard binding is hashed as the upload
 * arrives and the signed bytes go back while it is still arriving; the call takes about as long
 * as the longer of the upload and the download instead of their sum plus a pass over the file.
 *
 * The upload still goes to the spool, and what goes back is read from there, behind the upload:
 * the two directions are decoupled, so a caller that sends everything before reading anything
 * (or reads slowly) costs disk, not memory, and does not stall its own upload; for a caller that
 * reads as it sends, the newest few megabytes are kept in memory and go back without a read. The manifest store,
 * the signed asset's last piece, is held back until the registry has recorded the asset, as on
 * the spooled path: a caller whose asset could not be registered never holds a complete signed
 * file. The spool is removed however the call ends.
 */

export const canSignInOnePass = (format: string) => ONE_PASS_FORMATS.includes(format);

const CHUNK_BYTES = 1024 * 1024;
/**
 * The newest received bytes kept in memory for the sender, so that one keeping up need not read
 * them back (at most the spool threshold). Small: the chunks may be views of larger buffers, and
 * holding more (8 MiB was measured) grew the process and its garbage collection for no gain in time.
 */
const RECENT_BYTES = 2 * 1024 * 1024;

type Call = { requestId: string; startedAt: number; signal: AbortSignal };

/**
 * Receives the upload; once it goes to the spool (above the threshold, or announced so), signs
 * it in one pass and yields the signed asset and the result, returning nothing. An upload that
 * stays under the threshold is returned for the engine path.
 */
export async function* signWhileReceiving(
  deps: SigningContext,
  plan: AssetSigningPlan,
  messages: AsyncIterator<signingV1.SignStreamRequest>,
  limits: UploadLimits & { spool: NonNullable<UploadLimits['spool']> },
  call: Call,
): AsyncGenerator<signingV1.SignStreamResponse, UploadedAsset | undefined> {
  const inputHash = createHash('sha256');
  // Ends the receiving when this generator ends first (an error on the way out, a caller gone).
  const stop = new AbortController();
  const claimSigner = createMeshClaimSigner(deps.clients, plan.signer, plan.ocspResponse);
  let following: { signing: OnePassSigning; path: string } | undefined;
  /** Bytes of the upload on disk and given to the signer. */
  let received = 0;
  /** The newest received chunks, in order, at most RECENT_BYTES: older ones are read from the spool. */
  const recent: Array<{ offset: number; bytes: Uint8Array }> = [];
  let recentBytes = 0;
  const recentLimit = Math.min(RECENT_BYTES, limits.spool.thresholdBytes);
  let wake: () => void = () => undefined;
  let spoolStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (spoolStarted = resolve));

  const receiving = receiveAsset(messages, {
    ...limits,
    hash: inputHash,
    signal: AbortSignal.any([call.signal, stop.signal]),
    spool: {
      ...limits.spool,
      onSpool(path) {
        const signing = prepareOnePassSigning({ format: plan.format, manifestDefinition: streamingDefinition(deps, plan), signer: claimSigner, inputHash });
        following = { signing, path };
        spoolStarted();
        return (chunk) => {
          signing.update(chunk);
          recent.push({ offset: received, bytes: chunk });
          recentBytes += chunk.length;
          while (recentBytes > recentLimit) recentBytes -= recent.shift()!.bytes.length;
          received += chunk.length;
          wake();
        };
      },
    },
  });
  let outcome: { upload: UploadedAsset | SpooledAsset } | { error: unknown } | undefined;
  receiving.then(
    (upload) => {
      outcome = { upload };
      wake();
    },
    (error: unknown) => {
      outcome = { error };
      wake();
    },
  );
  await Promise.race([receiving, started]);
  if (following === undefined) {
    const upload = await receiving;
    if (isSpooled(upload)) {
      await upload.remove();
      throw new Error('the upload was spooled without being followed');
    }
    return upload;
  }

  const { signing, path } = following;
  let reader: FileHandle | undefined;
  const removeSpool = () =>
    receiving.then(
      (upload) => (isSpooled(upload) ? upload.remove() : undefined),
      () => undefined,
    );
  // A caller who goes away while the signed asset streams back may leave this generator
  // suspended: the file goes at once then, not when (or if) the generator is closed.
  const onAbort = () => {
    void reader?.close().catch(() => undefined);
    void removeSpool();
  };
  call.signal.addEventListener('abort', onAbort, { once: true });
  try {
    reader = await open(path, 'r').catch((error: unknown) => {
      throw outcome !== undefined && 'error' in outcome ? outcome.error : error;
    });
    let sent = 0;
    for (;;) {
      call.signal.throwIfAborted();
      if (outcome !== undefined && 'error' in outcome) throw outcome.error;
      const ready = Math.min(received, signing.ready);
      if (sent < ready) {
        while (recent.length > 0 && recent[0].offset + recent[0].bytes.length <= sent) recentBytes -= recent.shift()!.bytes.length;
        let piece: Uint8Array;
        if (recent.length > 0 && recent[0].offset <= sent) {
          const { offset, bytes } = recent[0];
          piece = bytes.subarray(sent - offset, Math.min(bytes.length, ready - offset));
        } else {
          piece = new Uint8Array(Math.min(CHUNK_BYTES, ready - sent, (recent[0]?.offset ?? Infinity) - sent));
          for (let filled = 0; filled < piece.length; ) {
            const { bytesRead } = await reader.read(piece, filled, piece.length - filled, sent + filled);
            if (bytesRead === 0) throw new Error('the spooled upload is shorter than what was received');
            filled += bytesRead;
          }
        }
        yield* signedChunks(signing.outputAt(piece, sent));
        sent += piece.length;
        continue;
      }
      if (outcome !== undefined) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    const upload = await receiving;
    const { store, result } = await signing.finish();
    yield* registerAndFinish(deps, plan, claimSigner, result, store, upload.sha256, call);
    return undefined;
  } finally {
    call.signal.removeEventListener('abort', onAbort);
    stop.abort();
    await reader?.close().catch(() => undefined);
    await removeSpool();
  }
}
