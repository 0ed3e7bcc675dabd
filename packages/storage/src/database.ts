import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrations } from './migrations/index.js';
import { PreparedPGliteDialect } from './pglite-driver.js';
import type { MeshDatabase } from './schema.js';
import { tracedDialect } from './traced-dialect.js';

export type Database = Kysely<MeshDatabase>;

export interface OpenDatabaseOptions {
  /** `postgres://…` selects PostgreSQL; otherwise the embedded PGlite database is used. */
  databaseUrl?: string;
  /** Directory for the embedded database; omitted means in memory (tests). */
  pgliteDir?: string;
  /** Connections in the PostgreSQL pool. */
  poolSize?: number;
  /**
   * How long opening a PostgreSQL connection (TCP, TLS, start-up, authentication) may take
   * before it fails; also bounds the check made when the database is opened. Default 10 s.
   */
  connectTimeoutMs?: number;
}

export const DEFAULT_DATABASE_CONNECT_TIMEOUT_MS = 10_000;

/** host:port/database of a PostgreSQL URL, without the credentials, for messages. */
function describeDatabase(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/** How busy the database connections are, for metrics. */
export interface DatabasePoolStats {
  driver: 'pg' | 'pglite';
  /** Connections allowed (PGlite: its one connection). */
  max: number;
  /** Connections open now. */
  open: number;
  /** Open connections not in use. */
  idle: number;
  /** Queries waiting for a connection (PGlite: for its one connection). */
  waiting: number;
}

const poolStats = new WeakMap<Database, () => DatabasePoolStats>();

/** The connection counts of a database opened by `openDatabase` (undefined for others). */
export function databasePoolStats(db: Database): DatabasePoolStats | undefined {
  return poolStats.get(db)?.();
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * int8 (counts, sizes) comes back as a string from `pg` and as a number from PGlite; both are
 * read as numbers here so that repositories see one type on both databases. Values stay far below
 * 2^53 (byte sizes, counters).
 */
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  if (options.databaseUrl) {
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_DATABASE_CONNECT_TIMEOUT_MS;
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      types: pgTypes as pg.CustomTypesConfig,
      // Without it a server that accepts the connection and never answers keeps the caller
      // waiting for as long as the operating system keeps the connection open.
      connectionTimeoutMillis: connectTimeoutMs,
    });
    // An idle client that loses its server must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    // Fail now, with a message that says where, rather than at the first query.
    try {
      await pool.query('select 1');
    } catch (error) {
      await pool.end().catch(() => undefined);
      const reason = (error as Error).message;
      const timedOut = /timeout/i.test(reason);
      throw new Error(
        timedOut
          ? `the database at ${describeDatabase(options.databaseUrl)} did not answer within ${connectTimeoutMs} ms (MESH_DATABASE_CONNECT_TIMEOUT_MS); is it a PostgreSQL server, and is it up?`
          : `the database at ${describeDatabase(options.databaseUrl)} cannot be reached: ${reason}`,
        { cause: error },
      );
    }
    const db = new Kysely<MeshDatabase>({ dialect: tracedDialect(new PostgresDialect({ pool }), 'pg') });
    const max = options.poolSize ?? 10;
    poolStats.set(db, () => ({ driver: 'pg', max, open: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }));
    return db;
  }
  let dataDir: string | undefined;
  if (options.pgliteDir) {
    dataDir = path.resolve(options.pgliteDir);
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  }
  const pglite = new PGlite(dataDir, {
    parsers: { [INT8_OID]: (value: string) => Number(value), [NUMERIC_OID]: (value: string) => Number(value) },
  });
  await pglite.waitReady;
  const dialect = new PreparedPGliteDialect(pglite);
  const db = new Kysely<MeshDatabase>({ dialect: tracedDialect(dialect, 'pglite') });
  poolStats.set(db, () => {
    const { waiting, running } = dialect.queries;
    return { driver: 'pglite', max: 1, open: pglite.closed ? 0 : 1, idle: running > 0 || pglite.closed ? 0 : 1, waiting };
  });
  return db;
}

/** Brings the schema to the latest migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
