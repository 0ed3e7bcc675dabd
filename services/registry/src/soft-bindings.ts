import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { invalidArgument, notFound } from '@c2pa-mesh/errors';
import { softBindingV1 } from '@c2pa-mesh/proto';
import { DEFAULT_MAX_RESULTS, ISCC_ALG, bandProbes, MAX_MATCH_DISTANCE, MAX_RESULTS_LIMIT, fingerprintBands, fingerprintInt64, parseBindingValue, similarityOf, type Fingerprint } from '@c2pa-mesh/soft-binding';
import { findManifestStore, findSoftBindingMatches, type NewSoftBinding } from '@c2pa-mesh/storage';
import type { RegistryServiceDeps } from './deps.js';

/** A manifest store larger than this is not kept (the registry's own bound, far above real ones). */
export const MAX_STORED_MANIFEST_BYTES = 16 * 1024 * 1024;

function checkedFingerprint(fingerprint: softBindingV1.Fingerprint | undefined, field: string): Fingerprint {
  if (fingerprint === undefined) throw invalidArgument(`${field} is required`, { details: { field } });
  if (fingerprint.alg !== ISCC_ALG) throw invalidArgument(`${field}.alg must be ${ISCC_ALG}`, { details: { field: `${field}.alg` } });
  return parseBindingValue(fingerprint.alg, Buffer.from(fingerprint.value).toString('base64'));
}

/** RegisterAssetRequest.soft_bindings as rows to store. */
export function softBindingRows(fingerprints: readonly softBindingV1.Fingerprint[]): NewSoftBinding[] {
  if (fingerprints.length > 4) throw invalidArgument('at most 4 soft_bindings per asset', { details: { field: 'soft_bindings' } });
  const seen = new Set<string>();
  return fingerprints.map((raw, index) => {
    const fingerprint = checkedFingerprint(raw, `soft_bindings[${index}]`);
    if (seen.has(fingerprint.alg)) throw invalidArgument('one soft binding per algorithm', { details: { field: 'soft_bindings' } });
    seen.add(fingerprint.alg);
    return { alg: fingerprint.alg, value: fingerprint.value, fingerprint: fingerprintInt64(fingerprint).toString(), bands: fingerprintBands(fingerprint) };
  });
}

export function maxResults(requested: number): number {
  if (requested < 0 || requested > MAX_RESULTS_LIMIT) throw invalidArgument(`max_results must be between 1 and ${MAX_RESULTS_LIMIT}`, { details: { field: 'max_results' } });
  return requested === 0 ? DEFAULT_MAX_RESULTS : requested;
}

/** FindSoftBindingMatches: the caller (the Verification service) names the project to search. */
export async function findSoftBindingMatchesHandler(deps: RegistryServiceDeps, req: softBindingV1.FindSoftBindingMatchesRequest, _ctx: HandlerContext) {
  const fingerprint = checkedFingerprint(req.fingerprint, 'fingerprint');
  const rows = await findSoftBindingMatches(deps.db, {
    alg: fingerprint.alg,
    fingerprint: fingerprintInt64(fingerprint).toString(),
    bandProbes: bandProbes(fingerprint),
    ...(req.projectId === '' ? {} : { projectId: req.projectId }),
    maxDistance: MAX_MATCH_DISTANCE,
    limit: maxResults(req.maxResults),
  });
  return create(softBindingV1.FindSoftBindingMatchesResponseSchema, {
    matches: rows.map((row) =>
      create(softBindingV1.SoftBindingMatchSchema, {
        assetId: row.asset_id,
        manifestLabel: row.manifest_label,
        similarity: similarityOf(row.distance),
        projectId: row.project_id,
      }),
    ),
  });
}

/** GetStoredManifest: the manifest repository, by label, within the named project. */
export async function getStoredManifestHandler(deps: RegistryServiceDeps, req: softBindingV1.GetStoredManifestRequest, _ctx: HandlerContext) {
  const label = req.manifestLabel.trim();
  if (label === '' || label.length > 500) throw invalidArgument('manifest_label must be a manifest label (URN) of at most 500 characters', { details: { field: 'manifest_label' } });
  const row = await findManifestStore(deps.db, label, req.projectId === '' ? undefined : req.projectId);
  if (!row) throw notFound(`no manifest ${label}`);
  return create(softBindingV1.GetStoredManifestResponseSchema, { manifestStore: row.manifest_store, assetId: row.asset_id });
}
