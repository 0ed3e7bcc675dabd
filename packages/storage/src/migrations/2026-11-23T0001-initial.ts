// Frozen: migrations never import application code and never change once landed.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const now = sql`now()`;
  await db.schema
    .createTable('projects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('default_signer_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();

  await db.schema
    .createTable('certificates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('serial_number', 'text', (c) => c.notNull())
    .addColumn('issuer_id', 'text', (c) => c.references('certificates.id'))
    .addColumn('profile', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('common_name', 'text', (c) => c.notNull())
    .addColumn('organization', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('key_algorithm', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.references('projects.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('certificate_der', 'bytea', (c) => c.notNull())
    .addColumn('chain_pem', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('spki_sha256', 'text', (c) => c.notNull())
    .addColumn('san_uris', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('key_held_by_ca', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('encrypted_private_key', 'bytea')
    .addColumn('is_default_signer', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('not_before', 'timestamptz', (c) => c.notNull())
    .addColumn('not_after', 'timestamptz', (c) => c.notNull())
    .addColumn('issued_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('activated_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revocation_reason', 'integer')
    .addColumn('status_changed_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();
  // Serial numbers are unique per issuer (RFC 5280 §4.1.2.2); OCSP looks them up by serial.
  await db.schema.createIndex('certificates_issuer_serial').on('certificates').columns(['issuer_id', 'serial_number']).unique().execute();
  await db.schema.createIndex('certificates_serial').on('certificates').column('serial_number').execute();
  await db.schema.createIndex('certificates_spki').on('certificates').column('spki_sha256').execute();
  await db.schema.createIndex('certificates_project').on('certificates').columns(['project_id', 'issued_at']).execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('scopes', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('expires_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoke_reason', 'text')
    .addColumn('max_asset_bytes', 'bigint', (c) => c.notNull())
    .addColumn('requests_per_minute', 'integer', (c) => c.notNull())
    .addColumn('allowed_origins', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('request_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('success_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('error_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('replaced_by_key_id', 'text')
    .execute();
  await db.schema.createIndex('api_keys_project').on('api_keys').columns(['project_id', 'created_at']).execute();

  await db.schema
    .createTable('client_bindings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('spki_sha256', 'text')
    .addColumn('san_uri', 'text')
    .addColumn('scopes', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex('client_bindings_spki').on('client_bindings').column('spki_sha256').execute();
  await db.schema.createIndex('client_bindings_san_uri').on('client_bindings').column('san_uri').execute();

  await db.schema
    .createTable('assets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('asset_sha256', 'text', (c) => c.notNull())
    .addColumn('input_sha256', 'text')
    .addColumn('format', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('size_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('signer_id', 'text')
    .addColumn('certificate_id', 'text')
    .addColumn('manifest_label', 'text')
    .addColumn('title', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('tags', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text')
    .addColumn('headline', 'text')
    .addColumn('author', 'text')
    .addColumn('payload_json', 'text')
    .addColumn('signed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex('assets_sha256').on('assets').column('asset_sha256').execute();
  await db.schema.createIndex('assets_project_created').on('assets').columns(['project_id', 'created_at']).execute();

  await db.schema
    .createTable('verifications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text')
    .addColumn('asset_sha256', 'text', (c) => c.notNull())
    .addColumn('validation_state', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('signer', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('error_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('first_error_code', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('verified_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex('verifications_project_time').on('verifications').columns(['project_id', 'verified_at']).execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('service', 'text', (c) => c.notNull())
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text')
    .addColumn('identity', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('identity_kind', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('size_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('duration_ms', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('client_ip', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('error', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('request_id', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_events_time').on('audit_events').columns(['occurred_at', 'id']).execute();
  await db.schema.createIndex('audit_events_project_time').on('audit_events').columns(['project_id', 'occurred_at']).execute();

  await db.schema
    .createTable('rate_limits')
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('window_start', 'timestamptz', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('rate_limits_pk', ['bucket', 'window_start'])
    .execute();

  await db.schema
    .createTable('webhooks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('events', 'jsonb', (c) => c.notNull())
    .addColumn('encrypted_secret', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('deleted_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id'))
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull())
    .addColumn('locked_until', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('delivered_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['settings', 'webhook_deliveries', 'webhooks', 'rate_limits', 'audit_events', 'verifications', 'assets', 'client_bindings', 'api_keys', 'certificates', 'projects']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
