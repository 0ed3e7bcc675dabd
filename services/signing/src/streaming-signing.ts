import { create } from '@bufbuild/protobuf';
import { openFileSource, prepareStreamSigning, STREAMING_FORMATS, type StreamSigningResult } from '@c2pa-mesh/c2pa-stream';
import { formatDisplayName, planIntent } from '@c2pa-mesh/engine';
import { failedPrecondition, MeshError } from '@c2pa-mesh/errors';
import { signingV1 } from '@c2pa-mesh/proto';
import { intentOptions, registerSignedAsset, type AssetSigningPlan } from './asset-signing.js';
import type { SpooledAsset } from './asset-upload.js';
import { createMeshClaimSigner, type MeshClaimSigner } from './claim-signer.js';
import { logClaimSignature } from './transparency-log.js';
import type { SigningContext } from './deps.js';
import { intentToProto } from './sign-intent.js';

/**
 * SignStream for large assets: the upload was spooled to a file, and the mesh writes the
 * manifest store itself (packages/c2pa-stream) while the file streams through once or twice,
 * in constant memory, instead of handing the whole asset to the engine. The claim is signed
 * by the same claim signer as the engine path (CA-held key, time-stamp, OCSP staple).
 *
 * The signed asset goes out as it is produced, except its last piece, which is held back until
 * the registry has recorded the asset: a caller whose asset could not be registered never holds
 * a complete signed file (for the formats whose store comes last, the piece held back is the
 * manifest store itself).
 */

export const canStreamSign = (format: string) => STREAMING_FORMATS.includes(format);

/** Pieces of the signed asset sent back. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * The manifest definition the streaming signer writes for this plan (intent CREATE applied);
 * edit and update are refused, as they need the asset's own manifest as an ingredient.
 */
export function streamingDefinition(deps: SigningContext, plan: AssetSigningPlan): string {
  if (plan.intent === 'edit' || plan.intent === 'update') {
    throw failedPrecondition(
      `assets over ${deps.config.streamSignThresholdBytes} bytes are signed by the streaming signer, which writes new manifests only (intent CREATE, or no intent for an asset without a manifest); intent ${plan.intent.toUpperCase()} needs the asset's manifest as an ingredient, which it cannot write yet`,
      { details: { field: 'intent', reason: 'streaming-unsupported' } },
    );
  }
  return planIntent(plan.manifest.json, 'create', intentOptions(plan.manifest)).manifestDefinition;
}

/** The signed asset's bytes as SignStream chunks. */
export function* signedChunks(bytes: Uint8Array): Generator<signingV1.SignStreamResponse> {
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
    yield create(signingV1.SignStreamResponseSchema, { payload: { case: 'chunk', value: bytes.subarray(at, at + CHUNK_BYTES) } });
  }
}

export async function* signSpooledAsset(
  deps: SigningContext,
  plan: AssetSigningPlan,
  upload: SpooledAsset,
  call: { requestId: string; startedAt: number; signal?: AbortSignal },
): AsyncGenerator<signingV1.SignStreamResponse> {
  const definition = streamingDefinition(deps, plan);
  const claimSigner = createMeshClaimSigner(deps.clients, plan.signer, plan.ocspResponse);
  const source = await openFileSource(upload.path);
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= source.close().catch(() => undefined));
  // The file handle is released when the caller goes away, even if this generator is never resumed.
  const closeOnAbort = () => void close();
  call.signal?.addEventListener('abort', closeOnAbort, { once: true });
  try {
    const signing = await prepareStreamSigning({ format: plan.format, source, manifestDefinition: definition, signer: claimSigner });
    let held: Uint8Array | undefined;
    for await (const chunk of signing.output()) {
      call.signal?.throwIfAborted();
      if (held !== undefined) yield* signedChunks(held);
      held = chunk;
    }
    if (held === undefined) throw new MeshError('internal', 'the streaming signer finished without a signature');
    yield* registerAndFinish(deps, plan, claimSigner, signing.result(), held, upload.sha256, call);
  } finally {
    call.signal?.removeEventListener('abort', closeOnAbort);
    await close();
  }
}

/**
 * Once the claim is signed: the signature goes to the transparency log, the asset to the
 * registry, and only then does the last piece of the signed asset go out, then the result.
 */
export async function* registerAndFinish(
  deps: SigningContext,
  plan: AssetSigningPlan,
  claimSigner: MeshClaimSigner,
  result: StreamSigningResult,
  held: Uint8Array,
  inputSha256: string,
  call: { requestId: string; startedAt: number; signal?: AbortSignal },
): AsyncGenerator<signingV1.SignStreamResponse> {
  const timeStamp = claimSigner.timeStamp;
  if (timeStamp === undefined) throw new MeshError('internal', 'the streaming signer finished without a signature');
  const signedAt = timeStamp.genTime.toISOString();
  const log = await logClaimSignature(deps, claimSigner.claimSignature);
  const assetId = await registerSignedAsset(deps, plan, {
    assetSha256: result.signedAssetSha256,
    inputSha256,
    sizeBytes: result.signedAssetBytes,
    manifestLabel: result.manifestLabel,
    requestId: call.requestId,
    signedAt,
    logIndex: log.logIndex,
    // Kept in the manifest repository; large assets are not fingerprinted (yet).
    repository: { softBindings: [], manifestStore: result.manifestStore },
  });
  yield* signedChunks(held);
  // The manifest store as c2pa-rs reports it, read from the store alone (the engine is not
  // given the large asset; the hard binding was checked by construction, not re-read here).
  const report = await deps.engine.read({ format: 'application/c2pa', asset: result.manifestStore, signal: call.signal });
  yield create(signingV1.SignStreamResponseSchema, {
    payload: {
      case: 'result',
      value: create(signingV1.SignStreamResultSchema, {
        manifestStoreJson: report?.manifestStoreJson ?? '',
        activeManifestLabel: result.manifestLabel,
        assetSha256: result.signedAssetSha256,
        assetId,
        requestId: call.requestId,
        durationMs: BigInt(Math.round(performance.now() - call.startedAt)),
        inputSha256,
        signerId: plan.signer.signerId,
        certificateId: plan.signer.certificateId,
        sizeBytes: BigInt(result.signedAssetBytes),
        signedAt,
        format: plan.format,
        warnings: plan.manifest.warnings.map((warning) => create(signingV1.SigningWarningSchema, warning)),
        intent: intentToProto('create'),
        logIndex: log.logIndex,
        logInclusionProof: log.logInclusionProof,
        logCheckpoint: log.logCheckpoint,
      }),
    },
  });
}

/** Why a large upload in this format is not streamed (it goes to the engine in memory instead). */
export const streamingFormatsText = () => STREAMING_FORMATS.map(formatDisplayName).join(', ');
