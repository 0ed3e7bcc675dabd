import { sql, type Kysely, type Transaction } from 'kysely';
import type { MeshDatabase } from '../schema.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

export async function getSetting(db: Db, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value;
}

export async function putSetting(db: Db, key: string, value: string): Promise<void> {
  await db
    .insertInto('settings')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: sql`now()` }))
    .execute();
}

/** Atomically increments a numeric setting (e.g. the CRL number) and returns the new value. */
export async function nextCounter(db: Db, key: string): Promise<bigint> {
  const row = await db
    .insertInto('settings')
    .values({ key, value: '1' })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: sql`(settings.value::bigint + 1)::text`, updated_at: sql`now()` }))
    .returning('value')
    .executeTakeFirstOrThrow();
  return BigInt(row.value);
}
