// Frozen: migrations never import application code and never change once landed.
import { type Kysely, sql } from 'kysely';

/**
 * Which transaction wrote each soft binding, so that a process keeping the fingerprints in memory
 * can read just the rows it may not have seen: every row written by a transaction older than the
 * horizon of its last read (`pg_snapshot_xmin`) was visible to that read.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('soft_bindings')
    .addColumn('inserted_xid', sql`xid8`, (c) => c.notNull().defaultTo(sql`pg_current_xact_id()`))
    .execute();
  await db.schema.createIndex('soft_bindings_inserted_xid').on('soft_bindings').columns(['alg', 'inserted_xid']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('soft_bindings_inserted_xid').execute();
  await db.schema.alterTable('soft_bindings').dropColumn('inserted_xid').execute();
}
