import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { callDependency, invalidArgument, isMeshError, notFound } from '@c2pa-mesh/errors';
import { softBindingV1 } from '@c2pa-mesh/proto';
import { callContext, callerIdentity } from '@c2pa-mesh/server';
import { fingerprintImage, isFingerprinted, parseBindingValue, type Fingerprint } from '@c2pa-mesh/soft-binding';
import { assetFormat } from './asset-format.js';
import { checkAssetSize } from './asset-limits.js';
import type { VerificationServiceDeps } from './routes.js';

/**
 * Soft-binding resolution: the registered assets whose fingerprint is close to a given one, and
 * the manifest stores the mesh signed. A caller tied to a project sees its project's assets only
 * (another project's are simply not there); a mesh-wide caller sees all.
 */

/** The registry's matches for `fingerprint`, within what the caller (of `projectId`) may see. */
export async function findMatches(deps: VerificationServiceDeps, fingerprint: Fingerprint, projectId: string | undefined, maxResults = 0) {
  const found = await callDependency(
    'the registry could not look the fingerprint up',
    () =>
      deps.clients.registry.findSoftBindingMatches({
        fingerprint: { alg: fingerprint.alg, value: fingerprint.value },
        projectId: projectId ?? '',
        maxResults,
      }),
    { keep: ['invalid_argument'] },
  );
  return found.matches;
}

/**
 * The matches for an asset that carries no Content Credentials: empty for formats that are not
 * fingerprinted and for images that cannot be decoded (the caller hears not_found as before).
 */
export async function matchesForStrippedAsset(deps: VerificationServiceDeps, asset: Uint8Array, format: string, projectId: string | undefined) {
  if (!isFingerprinted(format)) return [];
  const fingerprint = await fingerprintImage(asset).catch(() => undefined);
  if (fingerprint === undefined) return [];
  return findMatches(deps, fingerprint, projectId);
}

/** MatchSoftBinding: `/matches/byBinding`. */
export async function matchSoftBinding(deps: VerificationServiceDeps, req: softBindingV1.MatchSoftBindingRequest, ctx: HandlerContext) {
  const identity = callerIdentity(ctx);
  if (req.alg.trim() === '') throw invalidArgument('alg is required: the soft-binding algorithm name, e.g. io.iscc.v0', { details: { field: 'alg' } });
  if (req.value.length > 4096) throw invalidArgument('value is longer than 4096 characters', { details: { field: 'value' } });
  const fingerprint = parseBindingValue(req.alg.trim(), req.value);
  const matches = await findMatches(deps, fingerprint, identity.projectId, req.maxResults);
  return create(softBindingV1.MatchSoftBindingResponseSchema, { matches });
}

/** MatchContent: `/matches/byContent`. */
export async function matchContent(deps: VerificationServiceDeps, req: softBindingV1.MatchContentRequest, ctx: HandlerContext) {
  const identity = callerIdentity(ctx);
  const call = callContext(ctx);
  call.sizeBytes = req.asset.length;
  checkAssetSize(req.asset.length, identity);
  const format = assetFormat(req.format, req.asset);
  call.format = format;
  if (!isFingerprinted(format)) {
    throw invalidArgument(`${format} is not fingerprinted: only images (JPEG, PNG, WebP, TIFF, AVIF, GIF) can be matched by content`, {
      details: { field: 'format' },
    });
  }
  const fingerprint = await fingerprintImage(req.asset);
  const matches = await findMatches(deps, fingerprint, identity.projectId, req.maxResults);
  return create(softBindingV1.MatchContentResponseSchema, { matches, fingerprint: { alg: fingerprint.alg, value: fingerprint.value } });
}

/** GetManifestStore: `/manifests/{manifestId}`. */
export async function getManifestStore(deps: VerificationServiceDeps, req: softBindingV1.GetManifestStoreRequest, ctx: HandlerContext) {
  const identity = callerIdentity(ctx);
  const label = req.manifestLabel.trim();
  if (label === '') throw invalidArgument('manifest_label is required', { details: { field: 'manifest_label' } });
  const stored = await callDependency(
    'the registry could not read the manifest store',
    () => deps.clients.registry.getStoredManifest({ manifestLabel: label, projectId: identity.projectId ?? '' }),
    { keep: ['invalid_argument', 'not_found'] },
  ).catch((error: unknown) => {
    if (isMeshError(error) && error.code === 'not_found') throw notFound(`no manifest ${label}`);
    throw error;
  });
  return create(softBindingV1.GetManifestStoreResponseSchema, { manifestStore: stored.manifestStore, assetId: stored.assetId });
}
