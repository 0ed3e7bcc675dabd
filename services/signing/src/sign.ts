import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { signingV1 } from '@c2pa-mesh/proto';
import { signingFingerprint } from '@c2pa-mesh/soft-binding';
import { callContext, callerIdentity, mayMoveRequestBytes } from '@c2pa-mesh/server';
import { checkSigningOptions, planAssetSigning, signPlannedAsset, signResultFields } from './asset-signing.js';
import type { SigningContext } from './deps.js';
import { assetSizeLimit, checkAssetSize, checkMagicBytes } from './sign-request-rules.js';

/** Below this, copying an asset to the engine's worker costs less than thinking about moving it. */
const MOVE_ASSET_MIN_BYTES = 64 * 1024;

/** Sign: one complete media file in, the same file with Content Credentials out. */
export async function sign(deps: SigningContext, req: signingV1.SignRequest, ctx: HandlerContext): Promise<signingV1.SignResponse> {
  const call = callContext(ctx);
  const identity = callerIdentity(ctx);
  call.sizeBytes = req.asset.length;
  call.format = req.format;
  const checked = checkSigningOptions(req);
  call.format = checked.format;
  checkAssetSize(req.asset.length, assetSizeLimit(identity));
  checkMagicBytes(checked.format, req.asset);

  // The fingerprint's pixel work (libvips threads) runs while the project and signer are looked up.
  const fingerprint = signingFingerprint(checked.format, req.asset);
  const plan = await planAssetSigning(deps, identity, checked);
  call.projectId = plan.project.projectId;
  const signed = await signPlannedAsset(deps, plan, req.asset, {
    requestId: call.requestId,
    signal: ctx.signal,
    caller: identity.id,
    fingerprint,
    // Moved, not copied, to the engine's worker: nothing reads `req.asset` after this call.
    moveAsset: req.asset.byteLength >= MOVE_ASSET_MIN_BYTES && mayMoveRequestBytes(ctx, req.asset),
  });
  return create(signingV1.SignResponseSchema, {
    signedAsset: signed.signedAsset,
    ...signResultFields(signed, call),
  });
}
