import { sql, type Kysely, type Transaction } from 'kysely';
import type { MeshDatabase } from '../schema.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

export interface RateLimitHit {
  /** Calls counted in the current one-minute window, this one included. */
  current: number;
  /** Calls counted in the window before. */
  previous: number;
  /** Seconds elapsed in the current window, 0 to 60. */
  elapsedSeconds: number;
  windowStart: Date;
}

/**
 * Counts one call against `bucket` in the current one-minute window and returns the counts of
 * this window and the one before (for a sliding-window estimate). One statement, on the
 * database's clock: every instance counts in the same rows, so a limit holds across instances.
 */
export async function countRateLimitHit(db: Db, bucket: string): Promise<RateLimitHit> {
  const result = await sql<{ current: number; previous: number; elapsed: number; window_start: Date }>`
    with clock as (select now() as t, date_trunc('minute', now()) as w),
    hit as (
      insert into rate_limits (bucket, window_start, count)
      select ${bucket}, w, 1 from clock
      on conflict (bucket, window_start) do update set count = rate_limits.count + 1
      returning count, window_start
    )
    select
      hit.count as current,
      coalesce((select r.count from rate_limits r, clock where r.bucket = ${bucket} and r.window_start = clock.w - interval '1 minute'), 0) as previous,
      (select extract(epoch from (t - w)) from clock)::float8 as elapsed,
      hit.window_start as window_start
    from hit`.execute(db);
  const row = result.rows[0];
  return { current: Number(row.current), previous: Number(row.previous), elapsedSeconds: Number(row.elapsed), windowStart: new Date(row.window_start) };
}

/** Takes back a counted call that was refused, so that refused calls do not extend the wait. */
export async function uncountRateLimitHit(db: Db, bucket: string, windowStart: Date): Promise<void> {
  await db
    .updateTable('rate_limits')
    .set((eb) => ({ count: eb('count', '-', 1) }))
    .where('bucket', '=', bucket)
    .where('window_start', '=', windowStart)
    .where('count', '>', 0)
    .execute();
}

/** Drops windows that no estimate reads any more (older than two minutes). */
export async function pruneRateLimits(db: Db): Promise<number> {
  const result = await db.deleteFrom('rate_limits').where('window_start', '<', sql<Date>`now() - interval '2 minutes'`).executeTakeFirst();
  return Number(result.numDeletedRows);
}
