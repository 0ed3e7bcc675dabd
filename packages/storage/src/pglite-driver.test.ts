import { PGlite } from '@electric-sql/pglite';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';

// The embedded database's driver, always on PGlite (PostgreSQL has its own driver).
describe('prepared-statement PGlite driver', () => {
  let db: Kysely<any>;
  beforeAll(async () => {
    db = (await openDatabase({})) as Kysely<any>;
    await sql`create table sample (
      id text primary key, n int4, big int8, ok bool, at timestamptz, doc jsonb, raw bytea, tags text[], note text
    )`.execute(db);
  });
  afterAll(async () => {
    await db?.destroy();
  });

  const preparedCount = async (like: string) =>
    Number((await sql<{ n: number }>`select count(*)::int as n from pg_prepared_statements where statement like ${like}`.execute(db)).rows[0].n);

  it('writes and reads every value type as PGlite’s own query() does', async () => {
    const row = {
      id: 'a',
      n: 42,
      big: 9_007_199_254_740_000,
      ok: true,
      at: new Date('2026-12-05T01:02:03.456Z'),
      doc: JSON.stringify({ k: ['v', 1, null], s: "it's" }),
      raw: new Uint8Array([0, 1, 0xfe, 0xff]),
      tags: ['x', 'y z', 'q"uote'],
      note: null,
    };
    await db.insertInto('sample').values(row).execute();
    const ours = await db.selectFrom('sample').selectAll().where('id', '=', 'a').executeTakeFirstOrThrow();

    // The same row written and read by PGlite's own query() on a second database, parsing int8
    // and numeric as openDatabase asks.
    const reference = new PGlite({ parsers: { 20: (value: string) => Number(value), 1700: (value: string) => Number(value) } });
    try {
      await reference.exec(`create table sample (
        id text primary key, n int4, big int8, ok bool, at timestamptz, doc jsonb, raw bytea, tags text[], note text
      )`);
      const columns = Object.keys(row);
      await reference.query(
        `insert into sample (${columns.join(', ')}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        Object.values(row),
      );
      const theirs = (await reference.query('select * from sample where id = $1', ['a'], { rowMode: 'object' })).rows[0];
      expect(ours).toEqual(theirs);
    } finally {
      await reference.close();
    }
    expect(ours).toMatchObject({ n: 42, big: 9_007_199_254_740_000, ok: true, at: row.at, doc: { k: ['v', 1, null], s: "it's" }, tags: row.tags, note: null });
    expect(new Uint8Array(ours.raw)).toEqual(row.raw);
  });

  it('prepares each SQL text once and reports affected rows', async () => {
    for (let i = 0; i < 5; i++) await db.insertInto('sample').values({ id: `once-${i}`, n: i }).execute();
    expect(await preparedCount('insert into "sample" ("id", "n")%')).toBe(1);
    const updated = await db.updateTable('sample').set({ note: 'seen' }).where('id', 'like', 'once-%').executeTakeFirst();
    expect(updated.numUpdatedRows).toBe(5n);
  });

  it('keeps working after an error, and does not keep a statement that failed to prepare', async () => {
    await expect(db.insertInto('sample').values({ id: 'a' }).execute()).rejects.toMatchObject({ code: '23505' });
    await expect(sql`selec 1`.execute(db)).rejects.toMatchObject({ code: '42601' });
    expect(await preparedCount('selec 1')).toBe(0);
    expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }]);
  });

  it('prepares a statement again when the table under it changed', async () => {
    const all = () => db.selectFrom('sample').selectAll().where('id', '=', 'a').executeTakeFirstOrThrow();
    await all();
    await sql`alter table sample add column extra text default 'new'`.execute(db);
    expect((await all()).extra).toBe('new');
  });

  it('commits and rolls back transactions, and a statement outside waits for the transaction to end', async () => {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('sample').values({ id: 'committed' }).execute();
    });
    let outside: Promise<unknown> | undefined;
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('sample').values({ id: 'rolled-back' }).execute();
        outside = db.insertInto('sample').values({ id: 'outside' }).execute();
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await outside;
    const ids = (await db.selectFrom('sample').select('id').where('id', 'in', ['committed', 'rolled-back', 'outside']).execute()).map((r) => r.id);
    expect(ids.sort()).toEqual(['committed', 'outside']);
  });

  it('keeps at most 500 statements prepared', async () => {
    for (let i = 0; i < 520; i++) await sql`select ${sql.lit(i)}::int as n`.execute(db);
    expect(await preparedCount('%')).toBeLessThanOrEqual(500);
    expect((await sql<{ n: number }>`select ${sql.lit(7)}::int as n`.execute(db)).rows).toEqual([{ n: 7 }]);
  });
});
