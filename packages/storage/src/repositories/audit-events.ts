import type { Kysely, Transaction } from 'kysely';
import { newId } from '../ids.js';
import type { AuditEventRow, MeshDatabase, NewAuditEventRow } from '../schema.js';
import { afterKeyset, type KeysetPosition } from './keyset.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

export type NewAuditEvent = Omit<NewAuditEventRow, 'id'>;

export async function insertAuditEvent(db: Db, event: NewAuditEvent): Promise<string> {
  const id = newId('evt');
  // Written by the application with millisecond precision so that keyset cursors compare exactly.
  await db
    .insertInto('audit_events')
    .values({ id, ...event, occurred_at: event.occurred_at ?? new Date() })
    .execute();
  return id;
}

export interface AuditEventFilter {
  projectId?: string;
  operation?: string;
  /** Stored status: `ok` or `error`. */
  status?: 'ok' | 'error';
  since?: Date;
  until?: Date;
  requestId?: string;
  after?: KeysetPosition;
  limit: number;
}

/** Newest first. */
export async function listAuditEvents(db: Db, filter: AuditEventFilter): Promise<AuditEventRow[]> {
  let query = db.selectFrom('audit_events').selectAll();
  if (filter.projectId !== undefined) query = query.where('project_id', '=', filter.projectId);
  if (filter.operation !== undefined) query = query.where('operation', '=', filter.operation);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.requestId !== undefined) query = query.where('request_id', '=', filter.requestId);
  if (filter.since) query = query.where('occurred_at', '>=', filter.since);
  if (filter.until) query = query.where('occurred_at', '<', filter.until);
  if (filter.after) query = query.where(afterKeyset('audit_events', 'occurred_at', 'desc', filter.after));
  return query.orderBy('occurred_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}
