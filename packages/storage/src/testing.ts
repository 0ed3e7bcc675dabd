import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { type Database, migrateToLatest, openDatabase } from './database.js';

export interface TestDatabase {
  db: Database;
  /** `postgres://…` of the database made for this test, when running on PostgreSQL. */
  url: string | undefined;
  close(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file: with DATABASE_URL set, a new PostgreSQL database
 * with a random name (dropped on close) so that concurrent runs never collide; without it, an
 * in-memory PGlite.
 */
export async function createTestDatabase(databaseUrl = process.env.DATABASE_URL): Promise<TestDatabase> {
  if (!databaseUrl) {
    const db = await openDatabase({});
    await migrateToLatest(db);
    return { db, url: undefined, close: () => db.destroy() };
  }
  const name = `mesh_test_${randomBytes(6).toString('hex')}`;
  const admin = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 1, connectionTimeoutMillis: 10_000 }) }) });
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  let db: Database | undefined;
  // Each step even when the one before failed, so that no database or pool outlives the test.
  const close = async () => {
    try {
      await db?.destroy();
    } finally {
      try {
        await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin);
      } finally {
        await admin.destroy();
      }
    }
  };
  try {
    await sql`create database ${sql.id(name)}`.execute(admin);
    db = await openDatabase({ databaseUrl: url.toString(), poolSize: 5 });
    await migrateToLatest(db);
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  return { db, url: url.toString(), close };
}
