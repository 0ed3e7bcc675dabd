import type { HandlerContext } from '@connectrpc/connect';
import type { verificationV1 } from '@c2pa-mesh/proto';
import { callContext, callerIdentity } from '@c2pa-mesh/server';
import { assetFormat } from './asset-format.js';
import { checkAssetSize } from './asset-limits.js';
import type { VerificationServiceDeps } from './routes.js';
import { verifyAsset } from './verify-asset.js';

/** Verify: one complete asset in the request. */
export async function verify(deps: VerificationServiceDeps, req: verificationV1.VerifyRequest, ctx: HandlerContext) {
  const identity = callerIdentity(ctx);
  const call = callContext(ctx);
  call.sizeBytes = req.asset.length;
  checkAssetSize(req.asset.length, identity);
  call.format = req.format || undefined;
  const format = assetFormat(req.format, req.asset);
  call.format = format;
  return verifyAsset(deps, { requestId: call.requestId, projectId: identity.projectId, caller: identity.id, signal: ctx.signal, startedAt: call.startedAt }, { asset: req.asset, format, source: 'BYTES' });
}
