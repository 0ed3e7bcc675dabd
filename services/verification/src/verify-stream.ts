import type { HandlerContext } from '@connectrpc/connect';
import { invalidArgument } from '@c2pa-mesh/errors';
import type { verificationV1 } from '@c2pa-mesh/proto';
import { callContext, callerIdentity } from '@c2pa-mesh/server';
import { assetFormat } from './asset-format.js';
import { checkAssetSize } from './asset-limits.js';
import type { VerificationServiceDeps } from './routes.js';
import { verifyAsset } from './verify-asset.js';

/**
 * VerifyStream: the asset in chunks, options first. The caller's size limit is enforced while
 * receiving (and before, when the options announce the total), so an oversized upload is refused
 * as soon as it crosses the limit instead of being buffered whole.
 */
export async function verifyStream(deps: VerificationServiceDeps, requests: AsyncIterable<verificationV1.VerifyStreamRequest>, ctx: HandlerContext) {
  const identity = callerIdentity(ctx);
  const call = callContext(ctx);
  let declaredFormat = '';
  let totalSize = 0;
  let preallocated: Uint8Array | undefined;
  const chunks: Uint8Array[] = [];
  let received = 0;
  let first = true;

  for await (const message of requests) {
    const { payload } = message;
    if (payload.case === 'options') {
      if (!first) throw invalidArgument('options must be the first message of the stream, before any chunk', { details: { field: 'options' } });
      declaredFormat = payload.value.format;
      call.format = declaredFormat || undefined;
      const announced = payload.value.totalSize;
      if (announced < 0n) throw invalidArgument('options.total_size must not be negative', { details: { field: 'options.total_size' } });
      if (announced > 0n) {
        checkAssetSize(Number(announced), identity, `the announced asset (${announced} bytes)`);
        totalSize = Number(announced);
        preallocated = new Uint8Array(totalSize);
      }
    } else if (payload.case === 'chunk') {
      const chunk = payload.value;
      if (totalSize > 0 && received + chunk.length > totalSize) {
        throw invalidArgument(`the chunks add up to more than the announced total_size of ${totalSize} bytes`, { details: { field: 'options.total_size' } });
      }
      checkAssetSize(received + chunk.length, identity);
      if (preallocated) preallocated.set(chunk, received);
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
  const asset = preallocated ?? new Uint8Array(Buffer.concat(chunks, received));
  const format = assetFormat(declaredFormat, asset);
  call.format = format;
  return verifyAsset(deps, { requestId: call.requestId, projectId: identity.projectId, caller: identity.id, signal: ctx.signal, startedAt: call.startedAt }, { asset, format, source: 'STREAM' });
}
