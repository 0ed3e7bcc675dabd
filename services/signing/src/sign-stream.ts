import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { invalidArgument } from '@c2pa-mesh/errors';
import { signingV1 } from '@c2pa-mesh/proto';
import { callContext, callerIdentity } from '@c2pa-mesh/server';
import { checkSigningOptions, planAssetSigning, signPlannedAsset, signResultFields } from './asset-signing.js';
import path from 'node:path';
import { isSpooled, receiveAsset, type SpooledAsset, type UploadedAsset } from './asset-upload.js';
import { canSignInOnePass, signWhileReceiving } from './one-pass-signing.js';
import type { SigningContext } from './deps.js';
import { MIN_ASSET_BYTES, assetSizeLimit, checkAssetSize, tooLarge } from './sign-request-rules.js';
import { canStreamSign, signSpooledAsset } from './streaming-signing.js';

/** Pieces of the signed asset sent back: large enough to keep per-message overhead low. */
export const SIGNED_CHUNK_BYTES = 1024 * 1024;

/**
 * SignStream: options first, then the asset in chunks; the signed asset comes back in chunks,
 * then one result. Everything that can be refused without the asset (options, size announced,
 * project, signer) is refused before the upload is read.
 */
export async function* signStream(
  deps: SigningContext,
  requests: AsyncIterable<signingV1.SignStreamRequest>,
  ctx: HandlerContext,
): AsyncGenerator<signingV1.SignStreamResponse> {
  const call = callContext(ctx);
  const identity = callerIdentity(ctx);
  const messages = requests[Symbol.asyncIterator]();
  const first = await messages.next();
  if (first.done || first.value.payload.case !== 'options') {
    throw invalidArgument('the first SignStream message must carry the options (format, manifest_json, ...); the asset follows in chunks', {
      details: { field: 'options' },
    });
  }
  const options = first.value.payload.value;
  call.format = options.format;
  const checked = checkSigningOptions(options);
  call.format = checked.format;
  // Formats the streaming signer writes are spooled above the threshold and signed in constant
  // memory; the mesh's own identities (no per-key limit) may then send up to the streaming limit.
  const streaming = canStreamSign(checked.format);
  const limit = streaming && identity.limits === undefined ? deps.config.streamMaxAssetBytes : assetSizeLimit(identity);
  const declared = options.totalSize;
  if (declared < 0n) throw invalidArgument('total_size cannot be negative; 0 means unknown', { details: { field: 'total_size' } });
  if (declared > BigInt(limit)) throw tooLarge(Number(declared), limit);
  if (declared > 0n) {
    call.sizeBytes = Number(declared);
    if (declared < BigInt(MIN_ASSET_BYTES)) checkAssetSize(Number(declared), limit);
  }

  const plan = await planAssetSigning(deps, identity, checked);
  call.projectId = plan.project.projectId;
  const limits = {
    maxBytes: limit,
    declaredBytes: Number(declared),
    format: checked.format,
    onProgress: (received: number) => {
      call.sizeBytes = received;
    },
    signal: ctx.signal,
  };
  const spool = { thresholdBytes: deps.config.streamSignThresholdBytes, dir: path.join(deps.config.dataDir, 'spool') };
  let upload: UploadedAsset | SpooledAsset;
  if (streaming && canSignInOnePass(checked.format)) {
    // Signed while it arrives once it is large; returned only if it stayed small.
    const small = yield* signWhileReceiving(deps, plan, messages, { ...limits, spool }, { requestId: call.requestId, startedAt: call.startedAt, signal: ctx.signal });
    if (small === undefined) return;
    upload = small;
  } else {
    upload = await receiveAsset(messages, { ...limits, ...(streaming ? { spool } : {}) });
  }
  if (isSpooled(upload)) {
    // A caller who goes away while the signed asset streams back may leave this generator
    // suspended: the spool goes at once then, not when (or if) the generator is closed.
    const removeOnAbort = () => void upload.remove();
    ctx.signal.addEventListener('abort', removeOnAbort, { once: true });
    try {
      yield* signSpooledAsset(deps, plan, upload, { requestId: call.requestId, startedAt: call.startedAt, signal: ctx.signal });
    } finally {
      ctx.signal.removeEventListener('abort', removeOnAbort);
      await upload.remove();
    }
    return;
  }
  const signed = await signPlannedAsset(deps, plan, upload.asset, { requestId: call.requestId, signal: ctx.signal, caller: identity.id, handOver: { inputSha256: upload.sha256 } });

  const output = signed.signedAsset;
  for (let at = 0; at < output.length; at += SIGNED_CHUNK_BYTES) {
    yield create(signingV1.SignStreamResponseSchema, { payload: { case: 'chunk', value: output.subarray(at, at + SIGNED_CHUNK_BYTES) } });
  }
  yield create(signingV1.SignStreamResponseSchema, {
    payload: {
      case: 'result',
      value: create(signingV1.SignStreamResultSchema, {
        ...signResultFields(signed, call),
      }),
    },
  });
}
