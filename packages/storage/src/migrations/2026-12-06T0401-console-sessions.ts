// Frozen: migrations never import application code and never change once landed.
import { type Kysely, sql } from 'kysely';

/** Sessions of the web console, kept server side and found by the SHA-256 of their secret. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('console_sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    // How the person signed in (`ADMIN_CERTIFICATE` today) and who they are (a SPIFFE id).
    .addColumn('subject_kind', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    // The client certificate that signed in, re-checked for revocation on every call.
    .addColumn('certificate_spki_sha256', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('console_sessions_expires').on('console_sessions').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('console_sessions').execute();
}
