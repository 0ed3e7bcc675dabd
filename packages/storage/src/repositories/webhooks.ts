import { sql, type Kysely, type Transaction } from 'kysely';
import { invalidArgument } from '@c2pa-mesh/errors';
import { newId } from '../ids.js';
import type { MeshDatabase, WebhookDeliveryRow, WebhookRow } from '../schema.js';
import { afterKeyset, type KeysetPosition } from './keyset.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

/** The events a webhook can subscribe to. */
export const WEBHOOK_EVENTS = ['asset.signed', 'verification.completed', 'certificate.revoked', 'api_key.revoked'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export function isWebhookEvent(value: string): value is WebhookEvent {
  return (WEBHOOK_EVENTS as readonly string[]).includes(value);
}

export interface NewWebhook {
  id: string;
  projectId: string;
  url: string;
  events: readonly WebhookEvent[];
  /** The signing secret sealed with the key-encryption key. */
  encryptedSecret: Uint8Array;
}

export async function insertWebhook(db: Db, webhook: NewWebhook): Promise<WebhookRow> {
  return db
    .insertInto('webhooks')
    .values({
      id: webhook.id,
      project_id: webhook.projectId,
      url: webhook.url,
      events: JSON.stringify(webhook.events),
      encrypted_secret: webhook.encryptedSecret,
      created_at: new Date(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A webhook that has not been deleted. */
export async function findWebhookById(db: Db, id: string): Promise<WebhookRow | undefined> {
  return db.selectFrom('webhooks').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
}

/** Newest first, deleted ones left out. */
export async function listWebhooks(db: Db, filter: { projectId: string; after?: KeysetPosition; limit: number }): Promise<WebhookRow[]> {
  let query = db.selectFrom('webhooks').selectAll().where('project_id', '=', filter.projectId).where('deleted_at', 'is', null);
  if (filter.after) query = query.where(afterKeyset('webhooks', 'created_at', 'desc', filter.after));
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}

/** Deletes a webhook and drops its pending deliveries; false when there was none to delete. */
export async function deleteWebhook(db: Kysely<MeshDatabase>, id: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const deleted = await trx.updateTable('webhooks').set({ deleted_at: new Date() }).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    if (Number(deleted.numUpdatedRows) === 0) return false;
    await trx.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).where('status', '=', 'PENDING').execute();
    return true;
  });
}

/** The project's live webhooks that subscribe to `event`. */
function subscribedWebhooks(db: Db, projectId: string, event: WebhookEvent): Promise<Array<{ id: string }>> {
  if (!isWebhookEvent(event)) throw invalidArgument(`unknown webhook event "${event}"; events are ${WEBHOOK_EVENTS.join(', ')}`);
  return db
    .selectFrom('webhooks')
    .select(['id'])
    .where('project_id', '=', projectId)
    .where('deleted_at', 'is', null)
    .where(sql<boolean>`events @> ${JSON.stringify([event])}::jsonb`)
    .execute();
}

/**
 * Queues an event for every webhook of `projectId` subscribed to it; the dispatcher delivers it.
 * Call it inside the transaction that makes the change the event reports, so that an event is
 * queued exactly when the change is committed. Returns the ids of the queued deliveries.
 *
 * The body each receiver gets: `{"id": <delivery id>, "event", "created_at", "project_id", "data"}`.
 */
export async function enqueueWebhookEvent(db: Db, projectId: string, event: WebhookEvent, data: Record<string, unknown>): Promise<string[]> {
  const webhooks = await subscribedWebhooks(db, projectId, event);
  if (webhooks.length === 0) return [];
  const now = new Date();
  const rows = webhooks.map((webhook) => {
    const id = newId('dlv');
    const payload = JSON.stringify({ id, event, created_at: now.toISOString(), project_id: projectId, data });
    return { id, webhook_id: webhook.id, event, payload, status: 'PENDING', next_attempt_at: now, created_at: now };
  });
  await db.insertInto('webhook_deliveries').values(rows).execute();
  return rows.map((r) => r.id);
}

/**
 * Inserts a row and, when webhooks of its project subscribe to `event`, queues their deliveries in
 * the same transaction: the row and its event commit together or not at all. Without a project the
 * insert runs alone; with one, a query for subscribers comes first, and without any the insert
 * runs outside a transaction: one or two statements instead of a transaction of three or four.
 * A webhook created at the very moment may miss this one event, as it may within a transaction
 * (READ COMMITTED sees the webhooks committed before its SELECT).
 */
export async function insertWithWebhookEvent<Row>(
  db: Kysely<MeshDatabase>,
  projectId: string | null,
  event: WebhookEvent,
  insert: (db: Db) => Promise<Row>,
  data: (row: Row) => Record<string, unknown>,
): Promise<Row> {
  if (projectId === null || (await subscribedWebhooks(db, projectId, event)).length === 0) return insert(db);
  return db.transaction().execute(async (trx) => {
    const row = await insert(trx);
    await enqueueWebhookEvent(trx, projectId, event, data(row));
    return row;
  });
}

/** A delivery claimed by one dispatcher, with what it needs to send it. */
export interface ClaimedDelivery {
  delivery: WebhookDeliveryRow;
  url: string;
  encryptedSecret: Uint8Array;
}

/**
 * Claims up to `limit` due deliveries for `lockSeconds`: no other dispatcher (on any instance)
 * picks them up meanwhile (`FOR UPDATE SKIP LOCKED`, then `locked_until`). A dispatcher that dies
 * mid-delivery loses nothing: the lock runs out and another one retries.
 */
export async function claimDueDeliveries(db: Db, limit: number, lockSeconds: number): Promise<ClaimedDelivery[]> {
  const due = db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('status', '=', 'PENDING')
    .where('next_attempt_at', '<=', sql<Date>`now()`)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', sql<Date>`now()`)]))
    .orderBy('next_attempt_at')
    .limit(limit)
    .forUpdate()
    .skipLocked();
  const claimed = await db
    .updateTable('webhook_deliveries')
    .set({ locked_until: sql<Date>`now() + make_interval(secs => ${lockSeconds})` })
    .where('id', 'in', due)
    .returningAll()
    .execute();
  if (claimed.length === 0) return [];
  const webhooks = await db
    .selectFrom('webhooks')
    .select(['id', 'url', 'encrypted_secret'])
    .where('id', 'in', [...new Set(claimed.map((d) => d.webhook_id))])
    .where('deleted_at', 'is', null)
    .execute();
  const byId = new Map(webhooks.map((w) => [w.id, w]));
  return claimed.flatMap((delivery) => {
    const webhook = byId.get(delivery.webhook_id);
    return webhook ? [{ delivery, url: webhook.url, encryptedSecret: webhook.encrypted_secret }] : [];
  });
}

export async function markDeliveryDelivered(db: Db, id: string, statusCode: number): Promise<void> {
  const now = new Date();
  await db
    .updateTable('webhook_deliveries')
    .set((eb) => ({
      status: 'DELIVERED',
      attempts: eb('attempts', '+', 1),
      last_status_code: statusCode,
      last_error: null,
      delivered_at: now,
      locked_until: null,
    }))
    .where('id', '=', id)
    .execute();
}

/** Records a failed attempt: retried at `nextAttemptAt`, or FAILED for good when that is null. */
export async function markDeliveryFailed(db: Db, id: string, failure: { statusCode: number | null; error: string; nextAttemptAt: Date | null }): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set((eb) => ({
      status: failure.nextAttemptAt ? 'PENDING' : 'FAILED',
      attempts: eb('attempts', '+', 1),
      last_status_code: failure.statusCode,
      last_error: failure.error.slice(0, 1000),
      ...(failure.nextAttemptAt ? { next_attempt_at: failure.nextAttemptAt } : {}),
      locked_until: null,
    }))
    .where('id', '=', id)
    .execute();
}

/** Gives a claimed delivery back untried (the dispatcher is stopping): due again at once. */
export async function releaseDelivery(db: Db, id: string): Promise<void> {
  await db.updateTable('webhook_deliveries').set({ locked_until: null }).where('id', '=', id).where('status', '=', 'PENDING').execute();
}

export async function findWebhookDeliveryById(db: Db, id: string): Promise<WebhookDeliveryRow | undefined> {
  return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Newest first. */
export async function listWebhookDeliveries(db: Db, filter: { webhookId: string; after?: KeysetPosition; limit: number }): Promise<WebhookDeliveryRow[]> {
  let query = db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', filter.webhookId);
  if (filter.after) query = query.where(afterKeyset('webhook_deliveries', 'created_at', 'desc', filter.after));
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}

/** Deliveries still to be made: all pending ones, those due now, and how long the oldest due one has waited. */
export async function webhookBacklog(db: Db): Promise<{ pending: number; due: number; oldestDueSeconds: number }> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .select([
      sql<number>`count(*)`.as('pending'),
      sql<number>`count(*) filter (where next_attempt_at <= now())`.as('due'),
      sql<number>`coalesce(extract(epoch from now() - min(next_attempt_at) filter (where next_attempt_at <= now())), 0)`.as('oldest_due_seconds'),
    ])
    .where('status', '=', 'PENDING')
    .executeTakeFirstOrThrow();
  return { pending: Number(row.pending), due: Number(row.due), oldestDueSeconds: Number(row.oldest_due_seconds) };
}
