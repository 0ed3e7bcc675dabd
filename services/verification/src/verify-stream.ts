import path from 'node:path';
import { readFile } from 'node:fs/promises';
import type { HandlerContext } from '@connectrpc/connect';
import { createSpool, STREAM_VERIFY_FORMATS, type Spool } from '@c2pa-mesh/c2pa-stream';
import { invalidArgument, resourceExhausted } from '@c2pa-mesh/errors';
import type { verificationV1 } from '@c2pa-mesh/proto';
import { callContext, callerIdentity } from '@c2pa-mesh/server';
import { assetFormat } from './asset-format.js';
import { checkAssetSize, maxAssetBytes } from './asset-limits.js';
import type { VerificationServiceDeps } from './routes.js';
import { verifyAsset, verifySpooledAsset } from './verify-asset.js';

/** Bytes enough to tell every supported format by its magic numbers. */
const HEAD_BYTES = 4096;

/**
 * VerifyStream: the asset in chunks, options first. The caller's size limit is enforced while
 * receiving (and before, when the options announce the total), so an oversized upload is refused
 * as soon as it crosses the limit instead of being buffered whole. An upload above
 * MESH_STREAM_VERIFY_THRESHOLD_BYTES goes to a file under the data dir instead of memory; in a
 * format whose manifest store the mesh can locate it is verified from there (the engine judges
 * the store, the hard binding is recomputed from the file in pieces), and the file is removed
 * when the call ends, however it ends.
 */
export async function verifyStream(deps: VerificationServiceDeps, requests: AsyncIterable<verificationV1.VerifyStreamRequest>, ctx: HandlerContext) {
  const identity = callerIdentity(ctx);
  const call = callContext(ctx);
  // The mesh's own identities (no per-key limit) may send up to the streaming limit.
  const limit = identity.limits === undefined ? Math.max(maxAssetBytes(identity), deps.config.streamMaxAssetBytes) : maxAssetBytes(identity);
  const threshold = deps.config.streamVerifyThresholdBytes;
  const checkSize = (size: number, what?: string) => (identity.limits === undefined ? checkStreamLimit(size, limit, what) : checkAssetSize(size, identity, what));
  let declaredFormat = '';
  let totalSize = 0;
  let preallocated: Uint8Array | undefined;
  const chunks: Uint8Array[] = [];
  const head = new Uint8Array(HEAD_BYTES);
  let received = 0;
  let first = true;
  let spool: Spool | undefined;

  try {
    for await (const message of requests) {
      const { payload } = message;
      if (payload.case === 'options') {
        if (!first) throw invalidArgument('options must be the first message of the stream, before any chunk', { details: { field: 'options' } });
        declaredFormat = payload.value.format;
        call.format = declaredFormat || undefined;
        const announced = payload.value.totalSize;
        if (announced < 0n) throw invalidArgument('options.total_size must not be negative', { details: { field: 'options.total_size' } });
        if (announced > 0n) {
          checkSize(Number(announced), `the announced asset (${announced} bytes)`);
          totalSize = Number(announced);
          if (totalSize <= threshold) preallocated = new Uint8Array(totalSize);
        }
      } else if (payload.case === 'chunk') {
        const chunk = payload.value;
        if (totalSize > 0 && received + chunk.length > totalSize) {
          throw invalidArgument(`the chunks add up to more than the announced total_size of ${totalSize} bytes`, { details: { field: 'options.total_size' } });
        }
        checkSize(received + chunk.length);
        if (received < HEAD_BYTES) head.set(chunk.subarray(0, HEAD_BYTES - received), received);
        if (spool === undefined && (received + chunk.length > threshold || totalSize > threshold)) {
          // From here on the asset goes to disk: what came so far first.
          spool = await createSpool(path.join(deps.config.dataDir, 'spool'));
          for (const earlier of chunks) await spool.write(earlier);
          chunks.length = 0;
        }
        if (spool !== undefined) await spool.write(chunk);
        else if (preallocated) preallocated.set(chunk, received);
        else chunks.push(chunk);
        received += chunk.length;
        call.sizeBytes = received;
      } else {
        throw invalidArgument('a stream message carries neither options nor a chunk', { details: { field: 'payload' } });
      }
      first = false;
    }
    if (totalSize > 0 && received !== totalSize) {
      throw invalidArgument(`the stream ended after ${received} of the announced ${totalSize} bytes`, { details: { field: 'options.total_size' } });
    }
    call.sizeBytes = received;
    const verifying = { requestId: call.requestId, projectId: identity.projectId, caller: identity.id, signal: ctx.signal, startedAt: call.startedAt };
    if (spool === undefined) {
      const asset = preallocated ?? new Uint8Array(Buffer.concat(chunks, received));
      const format = assetFormat(declaredFormat, asset);
      call.format = format;
      return await verifyAsset(deps, verifying, { asset, format, source: 'STREAM' });
    }
    const sha256 = await spool.finish();
    const format = assetFormat(declaredFormat, head.subarray(0, Math.min(received, HEAD_BYTES)));
    call.format = format;
    if (!STREAM_VERIFY_FORMATS.includes(format) && received <= maxAssetBytes(identity)) {
      // A format whose store the mesh cannot locate itself, within the in-memory limit: the engine reads it whole.
      return await verifyAsset(deps, verifying, { asset: new Uint8Array(await readFile(spool.path)), format, source: 'STREAM' });
    }
    return await verifySpooledAsset(deps, verifying, { path: spool.path, sha256, format: format, source: 'STREAM' });
  } finally {
    await spool?.remove();
  }
}

/** MESH_STREAM_MAX_ASSET_BYTES, for the mesh's own identities (resource_exhausted, as a key's limit). */
function checkStreamLimit(size: number, limit: number, what = 'the asset'): void {
  if (size > limit) {
    throw resourceExhausted(`${what} is larger than ${limit} bytes, the most the mesh verifies (MESH_STREAM_MAX_ASSET_BYTES)`, { details: { sizeBytes: size, maxAssetBytes: limit } });
  }
}
