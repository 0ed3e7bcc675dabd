// Frozen: migrations never import application code and never change once landed.
import { type Kysely, sql } from 'kysely';

/** Accounts of people: users, e-mailed codes, sessions and their refresh tokens, the JWT keys, the mail outbox. */
export async function up(db: Kysely<any>): Promise<void> {
  const now = sql`now()`;
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // Lower case; unique.
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text', (c) => c.notNull())
    // Argon2id PHC string; never returned, logged or audited.
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('email_verified_at', 'timestamptz')
    .addColumn('password_changed_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();

  // Codes mailed to a user (address verification, password reset), kept as SHA-256 only.
  await db.schema
    .createTable('account_codes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex('account_codes_user').on('account_codes').columns(['user_id', 'purpose', 'created_at']).execute();

  // A session is one login: the family of refresh tokens rotated from it.
  await db.schema
    .createTable('account_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('client_ip', 'text', (c) => c.notNull())
    .addColumn('user_agent', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('last_used_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoke_reason', 'text')
    .execute();
  await db.schema.createIndex('account_sessions_user').on('account_sessions').columns(['user_id', 'created_at']).execute();

  await db.schema
    .createTable('account_refresh_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('session_id', 'text', (c) => c.notNull().references('account_sessions.id').onDelete('cascade'))
    // SHA-256 of the opaque token (hex).
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    // Set when it was exchanged for a new one: presenting it again revokes the session.
    .addColumn('rotated_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('account_refresh_tokens_session').on('account_refresh_tokens').column('session_id').execute();

  // Keys that sign access tokens; the public halves are published in the JWKS.
  await db.schema
    .createTable('account_signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'jsonb', (c) => c.notNull())
    // PKCS#8 sealed with the key-encryption key, the kid as associated data.
    .addColumn('encrypted_private_key', 'bytea', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema
    .createIndex('account_signing_keys_one_active')
    .on('account_signing_keys')
    .column('status')
    .unique()
    .where('status', '=', 'ACTIVE')
    .execute();

  // Mail written when no SMTP server is configured, or waiting to be sent.
  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body_text', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('sent_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('mail_outbox').ifExists().execute();
  await db.schema.dropTable('account_signing_keys').ifExists().execute();
  await db.schema.dropTable('account_refresh_tokens').ifExists().execute();
  await db.schema.dropTable('account_sessions').ifExists().execute();
  await db.schema.dropTable('account_codes').ifExists().execute();
  await db.schema.dropTable('users').ifExists().execute();
}
