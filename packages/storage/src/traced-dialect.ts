import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult } from 'kysely';

const tracer = trace.getTracer('c2pa-mesh');
const MAX_QUERY_TEXT = 2048;

/**
 * Forwards every member to `target`, methods bound to it: Kysely's connections and drivers keep
 * their state in private fields (#client, #pool) that only the real object can reach.
 */
function forwarding<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(object, property) {
      if (Object.prototype.hasOwnProperty.call(overrides, property)) return overrides[property as keyof T];
      const value = Reflect.get(object, property, object);
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
}

function querySpan(compiledQuery: CompiledQuery, database: string): Span {
  const text = compiledQuery.sql;
  // The statement's first keyword (SELECT, INSERT, BEGIN, WITH…): the SQL Kysely built, with
  // parameters as placeholders — values (secrets, hashes) are never recorded.
  const operation = /^\s*([a-z]+)/i.exec(text)?.[1]?.toUpperCase() ?? 'QUERY';
  return tracer.startSpan(`db ${operation}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      'db.system.name': 'postgresql',
      'db.operation.name': operation,
      'db.query.text': text.length > MAX_QUERY_TEXT ? `${text.slice(0, MAX_QUERY_TEXT)}…` : text,
      'c2pamesh.db.driver': database,
    },
  });
}

function tracedConnection(connection: DatabaseConnection, database: string): DatabaseConnection {
  return forwarding(connection, {
    async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
      const span = querySpan(compiledQuery, database);
      try {
        const result = await connection.executeQuery<R>(compiledQuery);
        span.setAttribute('db.response.returned_rows', result.rows.length);
        return result;
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        span.end();
      }
    },
  });
}

/**
 * The dialect with a client span per query (transaction statements included), for PostgreSQL
 * and PGlite alike: Kysely has no tracing of its own, and the `pg` instrumentation would miss
 * PGlite and needs a require hook this ES-module process does not have. Spans are children of
 * the active span (the RPC or job that ran the query); without an SDK they are no-ops.
 */
export function tracedDialect(dialect: Dialect, database: 'pg' | 'pglite'): Dialect {
  return forwarding(dialect, {
    createDriver(): Driver {
      const driver = dialect.createDriver();
      // Transaction statements run through the traced connection too; releasing it reaches the
      // real connection's private members through the forwarding proxy.
      return forwarding(driver, {
        async acquireConnection() {
          return tracedConnection(await driver.acquireConnection(), database);
        },
      });
    },
  });
}
