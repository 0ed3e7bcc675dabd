import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { callDependency, invalidArgument } from '@c2pa-mesh/errors';
import { verificationV1 } from '@c2pa-mesh/proto';
import { callContext, callerIdentity } from '@c2pa-mesh/server';
import type { LiveCertificateStatus } from './certificate-status.js';
import type { VerificationServiceDeps } from './routes.js';
import { recordVerification, utc } from './verify-asset.js';

const { ValidationState } = verificationV1;

/** `sha256:<64 hex>` (hex in any case) → the canonical lower-case form; else invalid_argument. */
export function contentHash(raw: string): string {
  const match = /^sha256:([0-9a-fA-F]{64})$/.exec(raw.trim());
  if (!match) {
    throw invalidArgument('content_hash must be "sha256:" followed by 64 hex digits, the SHA-256 of the exact bytes', {
      details: { field: 'content_hash' },
    });
  }
  return `sha256:${match[1].toLowerCase()}`;
}

/**
 * VerifyByHash: what the registry holds for a content hash (a file the mesh signed, or a hash
 * signed with SignHash), with the signing certificate's live status. The lookup is recorded in
 * the verification history: TRUSTED when found with an ACTIVE certificate, VALID when found with
 * another status, INVALID when not found.
 */
export async function verifyByHash(deps: VerificationServiceDeps, req: verificationV1.VerifyByHashRequest, ctx: HandlerContext) {
  const identity = callerIdentity(ctx);
  const call = callContext(ctx);
  const hash = contentHash(req.contentHash);
  const found = await callDependency('the registry could not look the hash up', () => deps.clients.registry.lookupAssetByHash({ contentHash: hash }));
  const asset = found.found ? found.asset : undefined;

  let live: LiveCertificateStatus | undefined;
  if (asset !== undefined) live = asset.certificateId ? await deps.certificateStatus.byId(asset.certificateId) : { status: 'UNKNOWN' };
  const state = asset === undefined ? ValidationState.INVALID : live?.status === 'ACTIVE' ? ValidationState.TRUSTED : ValidationState.VALID;
  const signer = live?.commonName ?? '';
  call.format = asset?.format || undefined;
  await recordVerification(
    deps,
    { requestId: call.requestId, projectId: identity.projectId },
    { assetSha256: hash, state, format: asset?.format ?? '', signer, source: 'HASH', errors: [] },
  );
  if (asset === undefined) return create(verificationV1.VerifyByHashResponseSchema, { found: false });
  return create(verificationV1.VerifyByHashResponseSchema, {
    found: true,
    assetId: asset.assetId,
    signedAt: utc(asset.signedAt),
    signer,
    certificateStatus: live?.status ?? 'UNKNOWN',
    format: asset.format,
    title: asset.title,
    contentType: asset.contentType,
    kind: asset.kind || 'ASSET',
    certificateId: asset.certificateId,
    headline: asset.headline,
    author: asset.author,
  });
}
