import type { Kysely, Transaction } from 'kysely';
import { newId } from '../ids.js';
import type { MeshDatabase, NewAuditEventRow } from '../schema.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

export type NewAuditEvent = Omit<NewAuditEventRow, 'id'>;

export async function insertAuditEvent(db: Db, event: NewAuditEvent): Promise<string> {
  const id = newId('evt');
  await db.insertInto('audit_events').values({ id, ...event }).execute();
  return id;
}
