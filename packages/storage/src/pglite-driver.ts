import { parse, protocol, type PGlite } from '@electric-sql/pglite';
import { LRUCache } from 'lru-cache';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

/** Statements kept prepared; the least recently used is closed beyond this. */
const MAX_PREPARED_STATEMENTS = 500;

/** PostgreSQL errors after which a prepared statement is dropped and the query prepared again. */
const STALE_STATEMENT_CODES = new Set([
  '0A000', // cached plan must not change result type (the table changed under the statement)
  '26000', // prepared statement does not exist
]);

/** PostgreSQL's type OID of bytea. */
const BYTEA_OID = 17;

/**
 * bytea in its text form (`\\x` and hex digits) as bytes. PGlite's own parser reads it one
 * `parseInt` per byte, which made reading log entries and manifest stores cost more than writing
 * them; Buffer's hex decoder is native.
 */
function parseBytea(text: string): Uint8Array {
  const hex = text.startsWith('\\x') ? text.slice(2) : text;
  const out = new Uint8Array(hex.length >> 1);
  Buffer.from(out.buffer, out.byteOffset, out.byteLength).write(hex, 'hex');
  return out;
}

/** Queries of the Kysely connection waiting for PGlite's exclusive section, and inside it. */
export interface QueryCounts {
  waiting: number;
  running: number;
}

interface PreparedStatement {
  name: string;
  /** The parameter types PostgreSQL inferred, which choose each value's text form. */
  parameterTypes: number[];
}

function concat(messages: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(messages.reduce((length, m) => length + m.byteLength, 0));
  let offset = 0;
  for (const message of messages) {
    out.set(message, offset);
    offset += message.byteLength;
  }
  return out;
}

/**
 * The embedded database's one connection. PGlite's own `query()` sends every statement through
 * six protocol exchanges (parse, describe, bind, describe, execute, sync), so PostgreSQL parses
 * and plans it anew each time. Here each distinct SQL text is prepared once as a named statement;
 * after that a query is one exchange (bind, describe, execute, sync). Values are turned into
 * text and results parsed exactly as `query()` does, with the instance's serializers and parsers.
 */
class PreparedPGliteConnection implements DatabaseConnection {
  readonly #pglite: PGlite;
  readonly #queries: QueryCounts;
  /** By SQL text; the least recently used is closed when a new one would be one too many. */
  readonly #statements = new LRUCache<string, PreparedStatement>({
    max: MAX_PREPARED_STATEMENTS,
    dispose: (statement, _sql, reason) => {
      if (reason === 'evict') this.#evicted.push(statement);
    },
  });
  /** Evicted statements not closed yet: closing is a round trip, done by #prepare after its own. */
  readonly #evicted: PreparedStatement[] = [];
  #nextName = 0;
  readonly #parsers: PGlite['parsers'];

  constructor(pglite: PGlite, queries: QueryCounts) {
    this.#pglite = pglite;
    this.#queries = queries;
    this.#parsers = { ...pglite.parsers, [BYTEA_OID]: parseBytea };
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const { sql, parameters } = compiledQuery;
    try {
      return await this.#run<R>(sql, parameters);
    } catch (error) {
      if (!STALE_STATEMENT_CODES.has((error as { code?: string }).code ?? '')) throw error;
      // Inside a transaction the error has already aborted it: the second try fails as well, and
      // the transaction is rolled back as after any other error.
      await this.#forget(sql);
      return this.#run<R>(sql, parameters);
    }
  }

  async *streamQuery(): AsyncIterableIterator<QueryResult<never>> {
    throw new Error('streaming query results is not supported by the embedded database');
  }

  async #run<R>(sql: string, parameters: readonly unknown[]): Promise<QueryResult<R>> {
    const queries = this.#queries;
    queries.waiting++;
    let entered = false;
    try {
      return await this.#pglite._runExclusiveQuery(async () => {
        entered = true;
        queries.waiting--;
        queries.running++;
        try {
          return await this.#exchange<R>(sql, parameters);
        } finally {
          queries.running--;
        }
      });
    } finally {
      if (!entered) queries.waiting--;
    }
  }

  /** One query on the connection (inside the exclusive section). */
  async #exchange<R>(sql: string, parameters: readonly unknown[]): Promise<QueryResult<R>> {
    const statement = this.#statements.get(sql) ?? (await this.#prepare(sql));
    const values = parameters.map((value, i) => {
      if (value === null || value === undefined) return null;
      // Bytes go as they are, in the binary parameter format: PGlite's serializer spells each
      // byte as hex in JavaScript (a string per byte), the cost that bound log appends.
      if (value instanceof Uint8Array && statement.parameterTypes[i] === BYTEA_OID) return value;
      const serializer = this.#pglite.serializers[statement.parameterTypes[i]];
      return serializer ? serializer(value) : String(value);
    });
    const { messages } = await this.#pglite.execProtocol(
      concat([
        protocol.serialize.bind({ statement: statement.name, values }),
        protocol.serialize.describe({ type: 'P' }),
        protocol.serialize.execute({}),
        protocol.serialize.sync(),
      ]),
    );
    const [result] = parse.parseResults(messages, this.#parsers, { rowMode: 'object' });
    return {
      rows: (result?.rows ?? []) as R[],
      numAffectedRows: result?.affectedRows != null ? BigInt(result.affectedRows) : undefined,
    };
  }

  /** Parses and describes `sql` as a named statement (inside the exclusive section). */
  async #prepare(sql: string): Promise<PreparedStatement> {
    const name = `kysely_${++this.#nextName}`;
    const { messages } = await this.#pglite.execProtocol(
      concat([protocol.serialize.parse({ name, text: sql }), protocol.serialize.describe({ type: 'S', name }), protocol.serialize.sync()]),
    );
    const description = messages.find((m) => m.name === 'parameterDescription') as { dataTypeIDs?: number[] } | undefined;
    const statement = { name, parameterTypes: description?.dataTypeIDs ?? [] };
    this.#statements.set(sql, statement);
    for (const evicted of this.#evicted.splice(0)) await this.#close(evicted.name);
    return statement;
  }

  async #forget(sql: string): Promise<void> {
    const statement = this.#statements.get(sql);
    if (!statement) return;
    this.#statements.delete(sql);
    await this.#pglite._runExclusiveQuery(() => this.#close(statement.name));
  }

  async #close(name: string): Promise<void> {
    await this.#pglite.execProtocol(concat([protocol.serialize.close({ type: 'S', name }), protocol.serialize.sync()]));
  }
}

/**
 * Hands the one connection to one user at a time: a user is a single query, or a transaction from
 * BEGIN to COMMIT or ROLLBACK, which must not see another user's statements in between. Kysely
 * 0.28 does not serialize a dialect's connection itself (its SQLite driver keeps a mutex like this
 * one, unexported), so the driver does.
 */
class ConnectionMutex {
  #held: Promise<void> | undefined;
  #release: (() => void) | undefined;

  async lock(): Promise<void> {
    while (this.#held) await this.#held;
    this.#held = new Promise((resolve) => {
      this.#release = resolve;
    });
  }

  unlock(): void {
    const release = this.#release;
    this.#held = undefined;
    this.#release = undefined;
    release?.();
  }
}

/**
 * Kysely's driver for the embedded database, with prepared statements (see the connection).
 * One connection, lent to one user at a time (see the mutex), so a transaction holds it from
 * BEGIN to COMMIT or ROLLBACK.
 */
class PreparedPGliteDriver implements Driver {
  readonly #pglite: PGlite;
  readonly #queries: QueryCounts;
  readonly #mutex = new ConnectionMutex();
  #connection: PreparedPGliteConnection | undefined;

  constructor(pglite: PGlite, queries: QueryCounts) {
    this.#pglite = pglite;
    this.#queries = queries;
  }

  async init(): Promise<void> {
    await this.#pglite.waitReady;
    this.#connection = new PreparedPGliteConnection(this.#pglite, this.#queries);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    if (!this.#connection) throw new Error('the embedded database is not open');
    await this.#mutex.lock();
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const modes = [
      ...(settings.isolationLevel ? [`isolation level ${settings.isolationLevel}`] : []),
      ...(settings.accessMode ? [settings.accessMode] : []),
    ];
    await connection.executeQuery(CompiledQuery.raw(modes.length > 0 ? `begin transaction ${modes.join(', ')}` : 'begin'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    // The connection itself is kept for the life of the database; the next user may have it.
    this.#mutex.unlock();
  }

  async destroy(): Promise<void> {
    if (!this.#pglite.closed) await this.#pglite.close();
  }
}

/**
 * PostgreSQL's adapter for the one embedded connection. Migrations run in one transaction that
 * holds that connection from the lock to the unlock, so no other user can interleave: the
 * advisory lock PostgreSQL's adapter takes is not needed.
 */
class PGliteAdapter extends PostgresAdapter {
  override async acquireMigrationLock(): Promise<void> {}

  override async releaseMigrationLock(): Promise<void> {}
}

/**
 * The embedded database's dialect: PostgreSQL's query compiler and introspector (PGlite is
 * PostgreSQL), the adapter above, and the prepared-statement driver. Written here rather than
 * extending Kysely's PGliteDialect because that dialect first ships in Kysely 0.29, which needs
 * Node 22, and the project runs on Node 20.
 */
export class PreparedPGliteDialect implements Dialect {
  readonly #pglite: PGlite;
  /** Queries waiting for the one connection and on it now (for metrics). */
  readonly queries: QueryCounts = { waiting: 0, running: 0 };

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  createAdapter(): DialectAdapter {
    return new PGliteAdapter();
  }

  createDriver(): Driver {
    return new PreparedPGliteDriver(this.#pglite, this.queries);
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }
}
