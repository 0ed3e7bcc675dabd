import type { Insertable, Kysely, Transaction } from 'kysely';
import type { ConsoleSessionRow, ConsoleSessionTable, MeshDatabase } from '../schema.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

export async function insertConsoleSession(db: Db, session: Insertable<ConsoleSessionTable>): Promise<void> {
  await db.insertInto('console_sessions').values(session).execute();
}

/** The session whose secret hashes to `idHash`, if it has not expired. */
export async function findConsoleSession(db: Db, idHash: string, now = new Date()): Promise<ConsoleSessionRow | undefined> {
  return db.selectFrom('console_sessions').selectAll().where('id_hash', '=', idHash).where('expires_at', '>', now).executeTakeFirst();
}

export async function deleteConsoleSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('console_sessions').where('id_hash', '=', idHash).execute();
}

/** Removes expired sessions; returns how many. */
export async function deleteExpiredConsoleSessions(db: Db, now = new Date()): Promise<number> {
  const result = await db.deleteFrom('console_sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * The newest audit event that is not a read (`List…`, `Get…`): what the console's live pages
 * watch. Its own polling reads never move it; a sign, a verify, a key change or a refused call do.
 * With `projectId`, only that project's events count (a tenant's console wakes for its own
 * traffic alone). Walks the time index (or the project's) from the newest row and stops at the
 * first match.
 */
export async function latestAuditChange(db: Db, projectId?: string): Promise<{ id: string; occurred_at: Date } | undefined> {
  let query = db
    .selectFrom('audit_events')
    .select(['id', 'occurred_at'])
    .where('operation', 'not like', 'List%')
    .where('operation', 'not like', 'Get%');
  if (projectId !== undefined) query = query.where('project_id', '=', projectId);
  return query.orderBy('occurred_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
}
