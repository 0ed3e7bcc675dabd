import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { AssetRow, MeshDatabase } from '../schema.js';
import type { NewAsset } from './assets.js';
import type { NewSoftBinding } from './soft-bindings.js';
import { isWebhookEvent, WEBHOOK_EVENTS, type WebhookEvent } from './webhooks.js';
import { invalidArgument } from '@c2pa-mesh/errors';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

export interface AssetRegistration {
  asset: NewAsset;
  /** Stored under the asset's manifest label (which they then need). */
  softBindings: readonly NewSoftBinding[];
  /** The manifest store as embedded; undefined or empty: not kept. */
  manifestStore?: Uint8Array;
  /** Queued for every live webhook of the project subscribed to it; `data` is the body's `data`. */
  event: { name: WebhookEvent; data: Record<string, unknown> };
}

export interface RegisteredAsset {
  row: AssetRow;
  /** False: the same request had registered the same bytes before, and `row` is that entry. */
  created: boolean;
}

/** PostgreSQL's foreign-key violation: here, a project that does not exist. */
const FOREIGN_KEY_VIOLATION = '23503';

export function isForeignKeyViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === FOREIGN_KEY_VIOLATION;
}

/**
 * Registers an asset in one statement: the entry, its soft bindings, its manifest store and the
 * deliveries of its event to the project's subscribed webhooks, all committed together or not at
 * all, in one round trip instead of a transaction of up to eight. An entry with a request id is
 * made once: asked again for the same bytes by the same request of the same project (a retry
 * whose first answer was lost), the statement inserts nothing and returns the first entry. A
 * project that does not exist fails the statement with a foreign-key violation
 * (`isForeignKeyViolation`): the registry checks no project beforehand.
 *
 * The delivery ids are made by the database ('dlv_' and a random UUID's 16 bytes, base64url),
 * since the statement learns how many webhooks subscribe only as it runs; each body is
 * `{"id": <delivery id>, "event", "created_at", "project_id", "data"}`, as enqueueWebhookEvent
 * writes it.
 */
export async function registerAssetOnce(db: Db, entry: AssetRegistration): Promise<RegisteredAsset> {
  const { asset, event } = entry;
  if (!isWebhookEvent(event.name)) throw invalidArgument(`unknown webhook event "${event.name}"; events are ${WEBHOOK_EVENTS.join(', ')}`);
  const now = new Date();
  const label = asset.manifestLabel ?? '';
  // Everything in the body after the id, written as JSON.stringify writes the whole body.
  const bodyAfterId = JSON.stringify({ event: event.name, created_at: now.toISOString(), project_id: asset.projectId, data: event.data }).slice(1);

  const ctes: RawBuilder<unknown>[] = [];
  const retried = asset.requestId !== '';
  if (retried) {
    ctes.push(sql`earlier as (
      select * from assets
      where asset_sha256 = ${asset.assetSha256} and status = 'ACTIVE' and project_id = ${asset.projectId}
        and request_id = ${asset.requestId} and kind = ${asset.kind}
      order by signed_at limit 1)`);
  }
  ctes.push(sql`inserted as (
    insert into assets (id, project_id, kind, asset_sha256, input_sha256, format, size_bytes, signer_id, certificate_id,
      manifest_label, title, description, tags, status, request_id, content_type, headline, author, payload_json,
      signed_at, log_index, created_at, updated_at)
    select ${asset.id}::text, ${asset.projectId}::text, ${asset.kind}::text, ${asset.assetSha256}::text, ${asset.inputSha256}::text,
      ${asset.format}::text, ${asset.sizeBytes}::bigint, ${asset.signerId}::text, ${asset.certificateId}::text,
      ${asset.manifestLabel}::text, ${asset.title}::text, '', ${JSON.stringify(asset.tags)}::jsonb, 'ACTIVE', ${asset.requestId}::text,
      ${asset.contentType}::text, ${asset.headline}::text, ${asset.author}::text, ${asset.payloadJson}::text,
      ${asset.signedAt}::timestamptz, ${asset.logIndex ?? null}::bigint, ${now}::timestamptz, ${now}::timestamptz
    ${retried ? sql`where not exists (select 1 from earlier)` : sql``}
    returning *)`);
  if (entry.softBindings.length > 0) {
    const rows = entry.softBindings.map(
      (b) =>
        sql`(${b.alg}::text, ${b.value}::bytea, ${b.fingerprint}::bigint, ${b.bands[0]}::integer, ${b.bands[1]}::integer, ${b.bands[2]}::integer, ${b.bands[3]}::integer)`,
    );
    ctes.push(sql`bindings as (
      insert into soft_bindings (asset_id, alg, project_id, manifest_label, value, fingerprint, band0, band1, band2, band3)
      select inserted.id, b.alg, inserted.project_id, ${label}::text, b.value, b.fingerprint, b.band0, b.band1, b.band2, b.band3
      from inserted cross join (values ${sql.join(rows)}) as b (alg, value, fingerprint, band0, band1, band2, band3))`);
  }
  if (entry.manifestStore !== undefined && entry.manifestStore.length > 0) {
    // A label names one manifest: registered again, the first stays.
    ctes.push(sql`store as (
      insert into manifest_stores (manifest_label, asset_id, project_id, manifest_store)
      select ${label}::text, inserted.id, inserted.project_id, ${entry.manifestStore}::bytea from inserted
      on conflict (manifest_label) do nothing)`);
  }
  ctes.push(sql`deliveries as (
    insert into webhook_deliveries (id, webhook_id, event, payload, status, next_attempt_at, created_at)
    select d.id, d.webhook_id, ${event.name}::text, '{"id":' || to_json(d.id)::text || ',' || ${bodyAfterId}::text, 'PENDING', ${now}::timestamptz, ${now}::timestamptz
    from (
      select 'dlv_' || translate(rtrim(encode(uuid_send(gen_random_uuid()), 'base64'), '='), '+/', '-_') as id, w.id as webhook_id
      from webhooks w join inserted on w.project_id = inserted.project_id
      where w.deleted_at is null and w.events @> ${JSON.stringify([event.name])}::jsonb
    ) d)`);
  const result = await sql<AssetRow & { created: boolean }>`with ${sql.join(ctes)}
    select true as created, inserted.* from inserted
    ${retried ? sql`union all select false as created, earlier.* from earlier` : sql``}`.execute(db);
  const found = result.rows[0];
  if (found === undefined) throw new Error(`registering asset ${asset.id} returned no row`);
  const { created, ...row } = found;
  return { row: row as AssetRow, created };
}
