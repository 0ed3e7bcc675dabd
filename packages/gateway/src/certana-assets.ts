import { MAX_ASSET_BYTES_CEILING } from '@c2pa-mesh/auth';
import { invalidArgument } from '@c2pa-mesh/errors';
import type { registryV1 } from '@c2pa-mesh/proto';
import { identifyOrRefuse } from './caller.js';
import { bareHash, certanaCaller, envelope, intParam, jsonBody, numberedPage, pageBody, queryOf, type CertanaCaller } from './certana-caller.js';
import { send, type Exchange } from './exchange.js';
import type { RouteContext } from './gateway.js';
import { checkMinimumSize } from './mirrorstage.js';
import { readMultipartForm, type UploadedFile } from './multipart.js';

/**
 * Certana's assets under `/certana/v1/assets/`: an upload is signed by the mesh (a C2PA manifest,
 * its claim signature appended to the transparency log) and registered in the organization's
 * project; the registry keeps title, description and tags. What the mesh does not do is answered
 * as such: no IPFS (`cid`, `ipfs_cid` null), no watermark (`watermarked_cid` null), no image
 * decoding here (`width`, `height` null). The signed file goes back in the upload's answer
 * (`signed_file`, base64): the mesh keeps its manifest store, not the file.
 */

const MAX_FIELD_BYTES = 64 * 1024;
/** The formats Certana takes; the mesh signs more, but Certana's clients send only images. */
const IMAGE_TYPES: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', tif: 'image/tiff', tiff: 'image/tiff', webp: 'image/webp' };

/** Certana's processing_status of a registry status: the mesh signs synchronously. */
const PROCESSING_STATUS: Record<string, string> = { ACTIVE: 'completed', DELETED: 'deleted' };

export function assetView(asset: registryV1.Asset, organizationId: string | undefined) {
  return {
    id: asset.assetId,
    organization_id: organizationId ?? null,
    project_id: asset.projectId,
    cid: null,
    content_hash: bareHash(asset.assetSha256),
    title: asset.title || null,
    description: asset.description || null,
    tags: asset.tags,
    mime_type: asset.format || null,
    file_size_bytes: Number(asset.sizeBytes),
    width: null,
    height: null,
    ipfs_cid: null,
    watermarked_cid: null,
    processing_status: PROCESSING_STATUS[asset.status] ?? asset.status.toLowerCase(),
    manifest_label: asset.manifestLabel || null,
    // The claim signature's leaf in the transparency log (Certana's blockchain commitment).
    log_index: asset.logIndex === undefined ? null : Number(asset.logIndex),
    created_at: asset.createdAt,
    updated_at: asset.updatedAt,
  };
}

/** The media type of an upload: its label when it names an image type, else its file name's extension. */
export function imageFormatOf(file: UploadedFile): string {
  if (Object.values(IMAGE_TYPES).includes(file.mimeType)) return file.mimeType;
  const extension = file.filename.split('.').pop()?.toLowerCase() ?? '';
  const format = IMAGE_TYPES[extension];
  if (!format) throw invalidArgument(`unsupported file type "${file.mimeType}"${file.filename ? ` (${file.filename})` : ''}: send a JPEG, PNG, TIFF or WebP image`, { details: { field: 'file' } });
  return format;
}

function tagList(raw: string | undefined): string[] {
  return (raw ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
}

function booleanField(fields: Map<string, string>, name: string): boolean {
  const value = fields.get(name)?.trim().toLowerCase();
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw invalidArgument(`${name} must be true or false`, { details: { field: name } });
}

/** `POST assets/` multipart: file, title, description, tags (comma-separated), blockchain_commit, track_*_enabled. */
async function uploadAsset(exchange: Exchange, context: RouteContext): Promise<void> {
  const caller = await certanaCaller(exchange, context);
  const { clients, options } = caller;
  const identity = await identifyOrRefuse(exchange, context.resolver, 'sign', () => clients.signing.sign({}, options), caller.projectId);
  exchange.pendingAudit = { service: 'signing', operation: 'Sign', identity };
  const maxBytes = identity.limits?.maxAssetBytes ?? MAX_ASSET_BYTES_CEILING;
  const form = await readMultipartForm(exchange, { maxFileBytes: maxBytes, maxFieldBytes: MAX_FIELD_BYTES, fileFields: ['file'] });
  const file = form.files.get('file');
  if (!file) throw invalidArgument('missing field "file": the image to upload', { details: { field: 'file' } });
  const format = imageFormatOf(file);
  checkMinimumSize(file.bytes, 'file');
  exchange.pendingAudit.format = format;
  exchange.pendingAudit.sizeBytes = file.bytes.length;
  // Every signature goes into the log; blockchain_commit=false cannot keep it out.
  booleanField(form.fields, 'blockchain_commit');
  const watermark = ['track_a_enabled', 'track_b_enabled', 'track_c_enabled'].some((name) => booleanField(form.fields, name));
  const title = form.fields.get('title') ?? '';
  const description = form.fields.get('description') ?? '';

  exchange.pendingAudit = undefined;
  const signed = await clients.signing.sign({ asset: file.bytes, format, title, tags: tagList(form.fields.get('tags')), projectId: caller.projectId }, options);
  const asset =
    description === ''
      ? (await clients.registry.getAsset({ assetId: signed.assetId }, options)).asset!
      : (await clients.registry.updateAsset({ assetId: signed.assetId, description }, options)).asset!;
  envelope(
    exchange,
    201,
    { ...assetView(asset, caller.organization?.organizationId), watermarked: false, signed_file: Buffer.from(signed.signedAsset).toString('base64') },
    watermark ? 'Asset signed and registered; the mesh embeds no watermark, so no watermark track was applied' : 'Asset signed and registered',
  );
}

const SORT_FIELDS = ['created_at'];

/** `GET assets/search/?q=logo&page=&page_size=`: the assets whose title, description or a tag holds `q`. */
async function searchAssets(exchange: Exchange, context: RouteContext): Promise<void> {
  const q = queryOf(exchange).get('q')?.trim() ?? '';
  if (q === '') throw invalidArgument('q is required: the text to look for in titles, descriptions and tags', { details: { field: 'q' } });
  return listAssets(exchange, context);
}

/** `GET assets/?page=&page_size=&order=created_at&sort=desc&tags=&status=&q=` → Certana's pagination. */
async function listAssets(exchange: Exchange, context: RouteContext): Promise<void> {
  const caller = await certanaCaller(exchange, context);
  const params = queryOf(exchange);
  const page = intParam(params, 'page', 1, 1, 100_000);
  const pageSize = intParam(params, 'page_size', 20, 1, 100);
  const order = params.get('order') || 'created_at';
  if (!SORT_FIELDS.includes(order)) throw invalidArgument(`order must be ${SORT_FIELDS.join(' or ')}: the registry orders assets by when they were made`, { details: { field: 'order' } });
  const sort = (params.get('sort') || 'desc').toLowerCase();
  if (sort !== 'asc' && sort !== 'desc') throw invalidArgument('sort must be asc or desc', { details: { field: 'sort' } });
  const status = (params.get('status') || 'completed').toLowerCase();
  const registryStatus = Object.entries(PROCESSING_STATUS).find(([, certana]) => certana === status)?.[0];
  const request = { projectId: caller.projectId, tags: tagList(params.get('tags') ?? ''), text: params.get('q')?.trim() ?? '', orderBy: `created_at_${sort}`, status: registryStatus ?? 'ACTIVE' };
  if (!registryStatus) {
    // pending, processing, failed: the mesh signs within the upload, so nothing is ever in them.
    if (!['pending', 'processing', 'failed'].includes(status)) throw invalidArgument('status must be completed, pending, processing, failed or deleted', { details: { field: 'status' } });
    return envelope(exchange, 200, pageBody([], 0, page, pageSize), 'Assets retrieved');
  }
  let total = 0;
  const { items } = await numberedPage(
    async (size, pageToken) => {
      const answer = await caller.clients.registry.listAssets({ ...request, pageSize: size, pageToken }, caller.options);
      total = Number(answer.totalSize);
      return { items: answer.assets, nextPageToken: answer.nextPageToken };
    },
    page,
    pageSize,
  );
  envelope(exchange, 200, pageBody(items.map((a) => assetView(a, caller.organization?.organizationId)), total, page, pageSize), 'Assets retrieved');
}

async function getAsset(exchange: Exchange, context: RouteContext, assetId: string): Promise<void> {
  const caller = await certanaCaller(exchange, context);
  const { asset } = await caller.clients.registry.getAsset({ assetId }, caller.options);
  envelope(exchange, 200, assetView(asset!, caller.organization?.organizationId), 'Asset retrieved');
}

function optionalText(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (value === null) return '';
  if (typeof value !== 'string') throw invalidArgument(`"${name}" must be a string`, { details: { field: name } });
  return value;
}

/** `PATCH assets/{id}` {title, description, tags}: the fields given change; `tags` replaces the tags. */
async function updateAsset(exchange: Exchange, context: RouteContext, assetId: string): Promise<void> {
  const caller: CertanaCaller = await certanaCaller(exchange, context);
  const body = await jsonBody(exchange);
  const tags = body.tags;
  if (tags !== undefined && (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string'))) throw invalidArgument('"tags" must be an array of strings', { details: { field: 'tags' } });
  const { asset } = await caller.clients.registry.updateAsset(
    { assetId, title: optionalText(body, 'title'), description: optionalText(body, 'description'), tags: (tags as string[] | undefined) ?? [], replaceTags: tags !== undefined },
    caller.options,
  );
  envelope(exchange, 200, assetView(asset!, caller.organization?.organizationId), 'Asset updated');
}

/** `DELETE assets/{id}` → 204; the registry keeps the entry as DELETED. */
async function deleteAsset(exchange: Exchange, context: RouteContext, assetId: string): Promise<void> {
  const caller = await certanaCaller(exchange, context);
  await caller.clients.registry.deleteAsset({ assetId }, caller.options);
  send(exchange, 204, new Uint8Array(), {});
}

export const ASSET_ROUTES = {
  'POST assets/': uploadAsset,
  'GET assets/': listAssets,
  'GET assets/search/': searchAssets,
  'GET assets/search': searchAssets,
  'GET assets/*': getAsset,
  'PATCH assets/*': updateAsset,
  'DELETE assets/*': deleteAsset,
};
