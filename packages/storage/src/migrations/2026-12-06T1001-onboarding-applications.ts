// Frozen: migrations never import application code and never change once landed.
import { type Kysely, sql } from 'kysely';

/**
 * Applications of publishers and creators, reviewed by a mesh admin. Certificates need no change:
 * their status column already takes PENDING (issued, waiting for activation).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('onboarding_applications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // PUBLISHER | CREATOR
    .addColumn('kind', 'text', (c) => c.notNull())
    // PENDING | APPROVED | REJECTED
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('organization_name', 'text', (c) => c.notNull())
    .addColumn('contact_email', 'text', (c) => c.notNull())
    .addColumn('contact_name', 'text', (c) => c.notNull())
    .addColumn('domain', 'text', (c) => c.notNull())
    .addColumn('jurisdiction', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('reviewed_at', 'timestamptz')
    .addColumn('reviewed_by', 'text')
    .addColumn('reason', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('organization_id', 'text')
    .addColumn('project_id', 'text')
    .addColumn('certificate_id', 'text')
    .execute();
  await db.schema.createIndex('onboarding_applications_created').on('onboarding_applications').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('onboarding_applications_status').on('onboarding_applications').columns(['status', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('onboarding_applications').ifExists().execute();
}
