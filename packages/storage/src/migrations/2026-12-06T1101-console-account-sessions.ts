// Frozen: migrations never import application code and never change once landed.
import type { Kysely } from 'kysely';

/**
 * Console sessions opened with a person's account (e-mail and password): the account session
 * behind them, checked on every call, so that signing out elsewhere or a password reset ends the
 * console session too.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('console_sessions').addColumn('account_session_id', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('console_sessions').dropColumn('account_session_id').execute();
}
