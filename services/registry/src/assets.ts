import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { failedPrecondition, invalidArgument, notFound } from '@c2pa-mesh/errors';
import { registryV1 } from '@c2pa-mesh/proto';
import { callerIdentity } from '@c2pa-mesh/server';
import {
  findActiveAssetByHash,
  findAssetById,
  isForeignKeyViolation,
  registerAssetOnce,
  countAssets,
  listAssets,
  markAssetDeleted,
  newId,
  updateAssetFields,
  type AssetRow,
} from '@c2pa-mesh/storage';
import { requiredProject, visibleTo } from '@c2pa-mesh/server';
import type { RegistryServiceDeps } from './deps.js';
import { toAsset } from './messages.js';
import { MAX_STORED_MANIFEST_BYTES, softBindingRows } from './soft-bindings.js';
import { pageOf, pageRequest } from '@c2pa-mesh/storage';
import { boundedText, oneOf, parseContentHash, parseTags, parseTimestamp, requiredId } from './validation.js';

const KINDS = ['ASSET', 'HASH_RECORD'] as const;
const CONTENT_TYPES = ['AUTHENTIC', 'AI_ENHANCED', 'AI_GENERATED'] as const;
const STATUSES = ['ACTIVE', 'DELETED'] as const;
const ORDERS = { created_at_desc: 'desc', created_at_asc: 'asc' } as const;

async function visibleAsset(deps: RegistryServiceDeps, ctx: HandlerContext, assetId: string): Promise<AssetRow> {
  requiredId(assetId, 'asset_id');
  return visibleTo(ctx, await findAssetById(deps.db, assetId), 'asset', assetId);
}

function logIndexOf(value: bigint | undefined): number | null {
  if (value === undefined) return null;
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidArgument('log_index must be a leaf index (0 to 2^53)', { details: { field: 'log_index' } });
  return Number(value);
}

/** Called by the Signing service for every file or content hash it signed. */
export async function registerAsset(deps: RegistryServiceDeps, req: registryV1.RegisterAssetRequest, ctx: HandlerContext) {
  const projectId = requiredProject(ctx, req.projectId);
  const kind = oneOf(req.kind || 'ASSET', KINDS, 'kind');
  const assetSha256 = parseContentHash(req.assetSha256, 'asset_sha256');
  const inputSha256 = req.inputSha256 === '' ? null : parseContentHash(req.inputSha256, 'input_sha256');
  if (req.sizeBytes < 0n) throw invalidArgument('size_bytes must not be negative');
  const asset = {
    id: newId('ast'),
    projectId,
    kind,
    assetSha256,
    inputSha256,
    format: boundedText(req.format, 'format', 200),
    sizeBytes: Number(req.sizeBytes),
    signerId: requiredId(req.signerId, 'signer_id'),
    certificateId: requiredId(req.certificateId, 'certificate_id'),
    manifestLabel: req.manifestLabel || null,
    title: boundedText(req.title, 'title', 500),
    tags: parseTags(req.tags),
    requestId: req.requestId,
    contentType: kind === 'HASH_RECORD' ? oneOf(req.contentType, CONTENT_TYPES, 'content_type') : null,
    headline: req.headline || null,
    author: req.author || null,
    payloadJson: req.payloadJson || null,
    signedAt: parseTimestamp(req.signedAt, 'signed_at'),
    logIndex: logIndexOf(req.logIndex),
  };
  const softBindings = softBindingRows(req.softBindings);
  if (req.manifestStore.length > MAX_STORED_MANIFEST_BYTES) throw invalidArgument(`manifest_store is larger than ${MAX_STORED_MANIFEST_BYTES} bytes`);
  if ((softBindings.length > 0 || req.manifestStore.length > 0) && asset.manifestLabel === null) {
    throw invalidArgument('soft_bindings and manifest_store need the manifest_label they belong to', { details: { field: 'manifest_label' } });
  }
  // One statement: the entry, its soft bindings and manifest store, and its asset.signed event
  // for each subscribed webhook commit together. Asked again for the same signed bytes by the same
  // request (the Signing service retries when the answer to its first try was lost on the way),
  // it returns the entry the first try made, not a second. The project is not read first: the
  // entry's foreign key refuses one that does not exist (projects are never deleted).
  const { row } = await registerAssetOnce(deps.db, {
    asset,
    softBindings,
    ...(req.manifestStore.length > 0 ? { manifestStore: req.manifestStore } : {}),
    event: {
      name: 'asset.signed',
      data: {
        asset_id: asset.id,
        kind: asset.kind,
        asset_sha256: asset.assetSha256,
        format: asset.format,
        size_bytes: asset.sizeBytes,
        signer_id: asset.signerId,
        certificate_id: asset.certificateId,
        manifest_label: asset.manifestLabel ?? '',
        signed_at: asset.signedAt.toISOString(),
        request_id: asset.requestId,
      },
    },
  }).catch((error: unknown) => {
    if (isForeignKeyViolation(error)) throw notFound(`no project ${projectId}`);
    throw error;
  });
  return create(registryV1.RegisterAssetResponseSchema, { asset: toAsset(row) });
}

export async function getAsset(deps: RegistryServiceDeps, req: registryV1.GetAssetRequest, ctx: HandlerContext) {
  const row = await visibleAsset(deps, ctx, req.assetId);
  return create(registryV1.GetAssetResponseSchema, { asset: toAsset(row) });
}

export async function listAssetsHandler(deps: RegistryServiceDeps, req: registryV1.ListAssetsRequest, ctx: HandlerContext) {
  const page = pageRequest(req);
  const status = oneOf(req.status || 'ACTIVE', STATUSES, 'status');
  const kind = req.kind === '' ? undefined : oneOf(req.kind, KINDS, 'kind');
  const orderBy = oneOf(req.orderBy || 'created_at_desc', Object.keys(ORDERS) as Array<keyof typeof ORDERS>, 'order_by');
  const projectId = requiredProject(ctx, req.projectId);
  if (req.text.length > 200) throw invalidArgument('text is at most 200 characters', { details: { field: 'text' } });
  const filter = { projectId, status, kind, tag: req.tag === '' ? undefined : req.tag.trim(), tags: req.tags.map((t) => t.trim()).filter((t) => t !== ''), text: req.text.trim() };
  const [rows, totalSize] = await Promise.all([listAssets(deps.db, { ...filter, order: ORDERS[orderBy], after: page.after, limit: page.fetch }), countAssets(deps.db, filter)]);
  const { rows: assets, nextPageToken } = pageOf(rows, page, (r) => r.created_at);
  return create(registryV1.ListAssetsResponseSchema, { assets: assets.map((a) => toAsset(a)), nextPageToken, totalSize: BigInt(totalSize) });
}

export async function updateAsset(deps: RegistryServiceDeps, req: registryV1.UpdateAssetRequest, ctx: HandlerContext) {
  const title = req.title !== undefined ? boundedText(req.title, 'title', 500) : undefined;
  const description = req.description !== undefined ? boundedText(req.description, 'description', 5000) : undefined;
  const tags = parseTags(req.tags);
  const current = await visibleAsset(deps, ctx, req.assetId);
  if (current.status !== 'ACTIVE') throw failedPrecondition(`asset ${current.id} is deleted; a deleted asset cannot be changed`);
  const merged = req.replaceTags ? tags : tags.length > 0 ? parseTags([...current.tags, ...tags]) : undefined;
  const row = await updateAssetFields(deps.db, current.id, { title, description, tags: merged });
  if (!row) throw failedPrecondition(`asset ${current.id} was deleted meanwhile; a deleted asset cannot be changed`);
  return create(registryV1.UpdateAssetResponseSchema, { asset: toAsset(row) });
}

export async function deleteAsset(deps: RegistryServiceDeps, req: registryV1.DeleteAssetRequest, ctx: HandlerContext) {
  const current = await visibleAsset(deps, ctx, req.assetId);
  const row = (await markAssetDeleted(deps.db, current.id)) ?? current;
  return create(registryV1.DeleteAssetResponseSchema, { asset: toAsset(row) });
}

/**
 * Finds a hash in every project: whoever holds a file may learn that the mesh signed it. Callers
 * of other projects see only the provenance facts, not the owner's descriptions.
 */
export async function lookupAssetByHash(deps: RegistryServiceDeps, req: registryV1.LookupAssetByHashRequest, ctx: HandlerContext) {
  const hash = parseContentHash(req.contentHash, 'content_hash');
  const row = await findActiveAssetByHash(deps.db, hash);
  if (!row) return create(registryV1.LookupAssetByHashResponseSchema, { found: false });
  const own = callerIdentity(ctx).projectId;
  return create(registryV1.LookupAssetByHashResponseSchema, {
    found: true,
    asset: toAsset(row, { provenanceOnly: own !== undefined && own !== row.project_id }),
  });
}
