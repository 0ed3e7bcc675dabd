// Frozen: migrations never import application code and never change once landed.
import { type Kysely, sql } from 'kysely';

/** Product certificates (MC4P) and the keys that sign their JWT proofs. */
export async function up(db: Kysely<any>): Promise<void> {
  const now = sql`now()`;
  await db.schema
    .createTable('product_certificate_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'jsonb', (c) => c.notNull())
    // PKCS#8 sealed with the key-encryption key, the kid as associated data.
    .addColumn('encrypted_private_key', 'bytea', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('retired_at', 'timestamptz')
    .execute();
  // At most one key signs new proofs.
  await db.schema
    .createIndex('product_certificate_keys_one_active')
    .on('product_certificate_keys')
    .column('status')
    .unique()
    .where('status', '=', 'ACTIVE')
    .execute();

  await db.schema
    .createTable('product_certificates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('asset_id', 'text', (c) => c.notNull().references('assets.id'))
    .addColumn('asset_url', 'text')
    .addColumn('authorized_domains', 'jsonb', (c) => c.notNull())
    .addColumn('bound_fields', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    // The C2PA facts as they stood at issue time (the verification the certificate rests on).
    .addColumn('validation_state', 'text', (c) => c.notNull())
    .addColumn('validation_verified_at', 'timestamptz', (c) => c.notNull())
    .addColumn('kid', 'text', (c) => c.notNull().references('product_certificate_keys.kid'))
    .addColumn('jwt', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('product_certificates_project').on('product_certificates').columns(['project_id', 'issued_at']).execute();
  // Domains a project proved it holds (DNS TXT record or HTTPS well-known file), per project.
  await db.schema
    .createTable('product_certificate_domains')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('domain', 'text', (c) => c.notNull())
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('method', 'text')
    .addColumn('verified_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addPrimaryKeyConstraint('product_certificate_domains_pk', ['project_id', 'domain'])
    .execute();
  await db.schema.createIndex('product_certificates_kid').on('product_certificates').columns(['kid', 'status']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('product_certificate_domains').ifExists().execute();
  await db.schema.dropTable('product_certificates').ifExists().execute();
  await db.schema.dropTable('product_certificate_keys').ifExists().execute();
}
