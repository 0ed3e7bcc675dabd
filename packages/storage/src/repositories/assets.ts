import { sql, type Kysely, type Transaction } from 'kysely';
import type { AssetRow, MeshDatabase } from '../schema.js';
import { afterKeyset, type KeysetPosition } from './keyset.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

export interface NewAsset {
  id: string;
  projectId: string;
  kind: 'ASSET' | 'HASH_RECORD';
  assetSha256: string;
  inputSha256: string | null;
  format: string;
  sizeBytes: number;
  signerId: string | null;
  certificateId: string | null;
  manifestLabel: string | null;
  title: string;
  tags: readonly string[];
  requestId: string;
  contentType: string | null;
  headline: string | null;
  author: string | null;
  payloadJson: string | null;
  signedAt: Date;
  /** Leaf index of the claim signature in the transparency log; absent: not logged. */
  logIndex?: number | null;
}

export async function insertAsset(db: Db, asset: NewAsset): Promise<AssetRow> {
  const now = new Date();
  return db
    .insertInto('assets')
    .values({
      id: asset.id,
      project_id: asset.projectId,
      kind: asset.kind,
      asset_sha256: asset.assetSha256,
      input_sha256: asset.inputSha256,
      format: asset.format,
      size_bytes: asset.sizeBytes,
      signer_id: asset.signerId,
      certificate_id: asset.certificateId,
      manifest_label: asset.manifestLabel,
      title: asset.title,
      description: '',
      tags: JSON.stringify(asset.tags),
      status: 'ACTIVE',
      request_id: asset.requestId,
      content_type: asset.contentType,
      headline: asset.headline,
      author: asset.author,
      payload_json: asset.payloadJson,
      signed_at: asset.signedAt,
      log_index: asset.logIndex ?? null,
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findAssetById(db: Db, id: string): Promise<AssetRow | undefined> {
  return db.selectFrom('assets').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The most recently signed ACTIVE asset with this hash (of the signed file or the signed content hash). */
export async function findActiveAssetByHash(db: Db, sha256: string): Promise<AssetRow | undefined> {
  return db
    .selectFrom('assets')
    .selectAll()
    .where('asset_sha256', '=', sha256)
    .where('status', '=', 'ACTIVE')
    .orderBy('signed_at', 'desc')
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
}

export interface AssetFilter {
  projectId: string;
  status: 'ACTIVE' | 'DELETED';
  tag?: string;
  /** Every one of these tags as well. */
  tags?: readonly string[];
  /** Text found, ignoring case, in the title, the description or one of the tags. */
  text?: string;
  kind?: 'ASSET' | 'HASH_RECORD';
  order: 'asc' | 'desc';
  after?: KeysetPosition;
  limit: number;
}

function filteredAssets(db: Db, filter: Omit<AssetFilter, 'order' | 'after' | 'limit'>) {
  let query = db.selectFrom('assets').where('project_id', '=', filter.projectId).where('status', '=', filter.status);
  const tags = [...(filter.tag !== undefined ? [filter.tag] : []), ...(filter.tags ?? [])];
  if (tags.length > 0) query = query.where(sql<boolean>`tags @> ${JSON.stringify(tags)}::jsonb`);
  if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
  if (filter.text !== undefined && filter.text !== '') {
    // LIKE's own wildcards in the text are matched as themselves.
    const pattern = `%${filter.text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where(
      (eb) =>
        sql<boolean>`(lower(${eb.ref('title')}) like ${pattern} or lower(${eb.ref('description')}) like ${pattern} or exists (select 1 from jsonb_array_elements_text(${eb.ref('tags')}) as tag where lower(tag) like ${pattern}))`,
    );
  }
  return query;
}

export async function listAssets(db: Db, filter: AssetFilter): Promise<AssetRow[]> {
  let query = filteredAssets(db, filter).selectAll();
  if (filter.after) query = query.where(afterKeyset('assets', 'created_at', filter.order, filter.after));
  return query.orderBy('created_at', filter.order).orderBy('id', filter.order).limit(filter.limit).execute();
}

/** How many assets match the filter, whatever the page. */
export async function countAssets(db: Db, filter: Omit<AssetFilter, 'order' | 'after' | 'limit'>): Promise<number> {
  const row = await filteredAssets(db, filter).select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

export interface AssetChanges {
  title?: string;
  description?: string;
  tags?: readonly string[];
}

/** Changes the descriptive fields of an ACTIVE asset; undefined when it is missing or deleted. */
export async function updateAssetFields(db: Db, id: string, changes: AssetChanges): Promise<AssetRow | undefined> {
  return db
    .updateTable('assets')
    .set({
      ...(changes.title !== undefined ? { title: changes.title } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.tags !== undefined ? { tags: JSON.stringify(changes.tags) } : {}),
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .where('status', '=', 'ACTIVE')
    .returningAll()
    .executeTakeFirst();
}

/** Marks an asset DELETED (idempotent); the row stays for the audit trail. */
export async function markAssetDeleted(db: Db, id: string): Promise<AssetRow | undefined> {
  const updated = await db
    .updateTable('assets')
    .set({ status: 'DELETED', updated_at: new Date() })
    .where('id', '=', id)
    .where('status', '=', 'ACTIVE')
    .returningAll()
    .executeTakeFirst();
  return updated ?? findAssetById(db, id);
}
