import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { signingV1 } from '@c2pa-mesh/proto';
import { callContext, callerIdentity } from '@c2pa-mesh/server';
import { checkSigningOptions, planAssetSigning, signPlannedAsset, signResultFields } from './asset-signing.js';
import type { SigningContext } from './deps.js';
import { assetSizeLimit, checkAssetSize, checkMagicBytes } from './sign-request-rules.js';

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

  const plan = await planAssetSigning(deps, identity, checked);
  call.projectId = plan.project.projectId;
  const signed = await signPlannedAsset(deps, plan, req.asset, { requestId: call.requestId, signal: ctx.signal, caller: identity.id });
  return create(signingV1.SignResponseSchema, {
    signedAsset: signed.signedAsset,
    ...signResultFields(signed, call),
  });
}
