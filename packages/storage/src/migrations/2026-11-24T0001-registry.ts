// Frozen: migrations never import application code and never change once landed.
import { type Kysely, sql } from 'kysely';

/** Indexes the registry's queries need: unique project names, per-project listings, pruning. */
export async function up(db: Kysely<any>): Promise<void> {
  // Names are unique without regard to case: "Newsroom" and "newsroom" would confuse people.
  await db.schema.createIndex('projects_name_unique').on('projects').expression(sql`lower(name)`).unique().execute();
  await db.schema.createIndex('projects_created').on('projects').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('client_bindings_project').on('client_bindings').columns(['project_id', 'created_at']).execute();
  await db.schema.createIndex('assets_project_status_created').on('assets').columns(['project_id', 'status', 'created_at']).execute();
  await db.schema.createIndex('verifications_time').on('verifications').columns(['verified_at', 'id']).execute();
  await db.schema.createIndex('verifications_sha256').on('verifications').column('asset_sha256').execute();
  await db.schema.createIndex('rate_limits_window').on('rate_limits').column('window_start').execute();
  await db.schema.createIndex('webhooks_project').on('webhooks').columns(['project_id', 'created_at']).execute();
  await db.schema.createIndex('webhook_deliveries_webhook').on('webhook_deliveries').columns(['webhook_id', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of [
    'webhook_deliveries_webhook',
    'webhooks_project',
    'rate_limits_window',
    'verifications_sha256',
    'verifications_time',
    'assets_project_status_created',
    'client_bindings_project',
    'projects_created',
    'projects_name_unique',
  ]) {
    await db.schema.dropIndex(index).ifExists().execute();
  }
}
