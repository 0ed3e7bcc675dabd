// Frozen: migrations never import application code and never change once landed.
import { type Kysely, sql } from 'kysely';

/**
 * The transparency log of claim signatures: its key and size, the leaves, every complete subtree
 * hash (level 0 = leaf hashes; tiles are read from levels 0, 8, 16, …), the signed checkpoints and
 * the witnesses' cosignatures. Append-only: nothing here is ever updated but `tlog_state`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const now = sql`now()`;
  await db.schema
    .createTable('tlog_state')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('public_key', 'bytea', (c) => c.notNull())
    // PKCS#8 Ed25519 sealed with the key-encryption key, the origin as associated data.
    .addColumn('encrypted_private_key', 'bytea', (c) => c.notNull())
    .addColumn('tree_size', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema
    .createTable('tlog_leaves')
    .addColumn('idx', 'bigint', (c) => c.primaryKey())
    .addColumn('leaf_hash', 'bytea', (c) => c.notNull())
    .addColumn('entry', 'bytea', (c) => c.notNull())
    .addColumn('appended_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();
  // Claim signatures are certificates, signatures and time-stamps: they do not compress, so the
  // database stores them out of line without trying to.
  await sql`alter table tlog_leaves alter column entry set storage external`.execute(db);
  await db.schema.createIndex('tlog_leaves_leaf_hash').on('tlog_leaves').column('leaf_hash').execute();
  await db.schema
    .createTable('tlog_nodes')
    .addColumn('level', 'integer', (c) => c.notNull())
    .addColumn('idx', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'bytea', (c) => c.notNull())
    .addPrimaryKeyConstraint('tlog_nodes_pk', ['level', 'idx'])
    .execute();
  await db.schema
    .createTable('tlog_checkpoints')
    .addColumn('tree_size', 'bigint', (c) => c.primaryKey())
    .addColumn('root_hash', 'bytea', (c) => c.notNull())
    // The signed note as the log signed it (cosignatures are kept apart and appended when served).
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema
    .createTable('tlog_cosignatures')
    .addColumn('tree_size', 'bigint', (c) => c.notNull().references('tlog_checkpoints.tree_size'))
    .addColumn('witness', 'text', (c) => c.notNull())
    // The whole note signature line (`— <name> <base64>`), verified before it was stored.
    .addColumn('signature_line', 'text', (c) => c.notNull())
    .addColumn('cosigned_at', 'timestamptz', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addPrimaryKeyConstraint('tlog_cosignatures_pk', ['tree_size', 'witness'])
    .execute();
  await db.schema.alterTable('assets').addColumn('log_index', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('assets').dropColumn('log_index').execute();
  for (const table of ['tlog_cosignatures', 'tlog_checkpoints', 'tlog_nodes', 'tlog_leaves', 'tlog_state']) {
    await db.schema.dropTable(table).execute();
  }
}
