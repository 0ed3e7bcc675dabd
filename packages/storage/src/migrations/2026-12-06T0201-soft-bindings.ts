// Frozen: migrations never import application code and never change once landed.
import { type Kysely, sql } from 'kysely';

/**
 * Soft bindings (perceptual fingerprints of signed assets) and the manifest repository (every
 * manifest store the mesh signed), so that an asset stripped of its metadata can be found again
 * and get its Content Credentials back.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('soft_bindings')
    .addColumn('asset_id', 'text', (c) => c.notNull().references('assets.id'))
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('manifest_label', 'text', (c) => c.notNull())
    // The value as the algorithm defines it (io.iscc.v0: the 10-byte ISCC Image-Code).
    .addColumn('value', 'bytea', (c) => c.notNull())
    // The 64-bit body as a signed integer, for Hamming distances in SQL (bit_count of the XOR).
    .addColumn('fingerprint', 'bigint', (c) => c.notNull())
    // Its four 16-bit quarters (multi-index hashing): a fingerprint within 11 bits of a query has
    // a quarter within 2 bits of the query's (pigeonhole), so a lookup reads only the rows the
    // band indexes point to for those few values.
    .addColumn('band0', 'integer', (c) => c.notNull())
    .addColumn('band1', 'integer', (c) => c.notNull())
    .addColumn('band2', 'integer', (c) => c.notNull())
    .addColumn('band3', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('soft_bindings_pk', ['asset_id', 'alg'])
    .execute();
  for (let band = 0; band < 4; band++) {
    await db.schema.createIndex(`soft_bindings_band${band}`).on('soft_bindings').columns(['alg', `band${band}`]).execute();
  }

  await db.schema
    .createTable('manifest_stores')
    .addColumn('manifest_label', 'text', (c) => c.primaryKey())
    .addColumn('asset_id', 'text', (c) => c.notNull().references('assets.id'))
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('manifest_store', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('manifest_stores_asset').on('manifest_stores').column('asset_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('manifest_stores').execute();
  await db.schema.dropTable('soft_bindings').execute();
}
