import { sql, type RawBuilder } from 'kysely';

/** Where a keyset-paginated listing left off: the sort time and id of the last row returned. */
export interface KeysetPosition {
  at: Date;
  id: string;
}

/**
 * Rows strictly after `after` in `(column, id)` order, as a row-value comparison that an index on
 * `(column, id)` serves. Timestamps used for keysets are written by the application with
 * millisecond precision, so the cursor (an ISO string) compares exactly.
 */
export function afterKeyset(table: string, column: string, direction: 'asc' | 'desc', after: KeysetPosition): RawBuilder<boolean> {
  const op = direction === 'desc' ? sql.raw('<') : sql.raw('>');
  return sql<boolean>`(${sql.ref(`${table}.${column}`)}, ${sql.ref(`${table}.id`)}) ${op} (${after.at}::timestamptz, ${after.id}::text)`;
}
