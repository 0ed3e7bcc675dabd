import { sql, type Kysely, type Transaction } from 'kysely';
import type { AuditEventRow, MeshDatabase } from '../schema.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

/** RPC method names counted as signing and as verification calls in usage figures. */
export const SIGN_OPERATIONS = ['Sign', 'SignStream', 'SignHash'] as const;
export const VERIFY_OPERATIONS = ['Verify', 'VerifyStream', 'VerifyByHash', 'VerifyUrl', 'VerifyBatch'] as const;

export interface UsageWindow {
  /** Only this project's calls; undefined: every call in the mesh. */
  projectId?: string;
  /** Start of the statistics period (30 days back, at a UTC midnight). */
  since: Date;
  todayStart: Date;
  weekStart: Date;
}

export interface UsageTotals {
  today: number;
  week: number;
  requests: number;
  successes: number;
  averageMs: number;
}

export interface ProjectUsageRow {
  projectId: string;
  projectName: string;
  requests: number;
  successes: number;
  errors: number;
  signs: number;
  verifies: number;
  averageMs: number;
  lastUsedAt: Date | null;
}

export interface DailyUsageRow {
  date: string;
  requests: number;
  successes: number;
  errors: number;
  averageMs: number;
  p50Ms: number;
}

function inWindow(db: Db, window: UsageWindow) {
  let query = db.selectFrom('audit_events').where('audit_events.occurred_at', '>=', window.since);
  if (window.projectId !== undefined) query = query.where('audit_events.project_id', '=', window.projectId);
  return query;
}

const count = (condition: ReturnType<typeof sql<boolean>>) => sql<number>`count(*) filter (where ${condition})`;

export async function usageTotals(db: Db, window: UsageWindow): Promise<UsageTotals> {
  const row = await inWindow(db, window)
    .select([
      count(sql<boolean>`occurred_at >= ${window.todayStart}::timestamptz`).as('today'),
      count(sql<boolean>`occurred_at >= ${window.weekStart}::timestamptz`).as('week'),
      sql<number>`count(*)`.as('requests'),
      count(sql<boolean>`status = 'ok'`).as('successes'),
      sql<number>`coalesce(avg(duration_ms), 0)::float8`.as('average_ms'),
    ])
    .executeTakeFirstOrThrow();
  return { today: Number(row.today), week: Number(row.week), requests: Number(row.requests), successes: Number(row.successes), averageMs: Number(row.average_ms) };
}

/** Per-project sums, most requests first; calls tied to no project are left out. */
export async function usageByProject(db: Db, window: UsageWindow): Promise<ProjectUsageRow[]> {
  const rows = await inWindow(db, window)
    .innerJoin('projects', 'projects.id', 'audit_events.project_id')
    .select([
      'projects.id as project_id',
      'projects.name as project_name',
      sql<number>`count(*)`.as('requests'),
      count(sql<boolean>`audit_events.status = 'ok'`).as('successes'),
      count(sql<boolean>`audit_events.status <> 'ok'`).as('errors'),
      count(sql<boolean>`audit_events.operation in (${sql.join(SIGN_OPERATIONS)})`).as('signs'),
      count(sql<boolean>`audit_events.operation in (${sql.join(VERIFY_OPERATIONS)})`).as('verifies'),
      sql<number>`coalesce(avg(audit_events.duration_ms), 0)::float8`.as('average_ms'),
      sql<Date | null>`max(audit_events.occurred_at)`.as('last_used_at'),
    ])
    .groupBy(['projects.id', 'projects.name'])
    .orderBy('requests', 'desc')
    .orderBy('projects.id')
    .execute();
  return rows.map((r) => ({
    projectId: r.project_id,
    projectName: r.project_name,
    requests: Number(r.requests),
    successes: Number(r.successes),
    errors: Number(r.errors),
    signs: Number(r.signs),
    verifies: Number(r.verifies),
    averageMs: Number(r.average_ms),
    lastUsedAt: r.last_used_at === null ? null : new Date(r.last_used_at),
  }));
}

/** Calls and their durations (average, median) per UTC day that had any; the caller fills in the days without calls. */
export async function usageByDay(db: Db, window: UsageWindow): Promise<DailyUsageRow[]> {
  const day = sql<string>`to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD')`;
  const rows = await inWindow(db, window)
    .select([
      day.as('date'),
      sql<number>`count(*)`.as('requests'),
      count(sql<boolean>`status = 'ok'`).as('successes'),
      count(sql<boolean>`status <> 'ok'`).as('errors'),
      sql<number>`coalesce(avg(duration_ms), 0)::float8`.as('average_ms'),
      sql<number>`coalesce(percentile_cont(0.5) within group (order by duration_ms), 0)::float8`.as('p50_ms'),
    ])
    .groupBy(day)
    .orderBy(day)
    .execute();
  return rows.map((r) => ({
    date: r.date,
    requests: Number(r.requests),
    successes: Number(r.successes),
    errors: Number(r.errors),
    averageMs: Number(r.average_ms),
    p50Ms: Number(r.p50_ms),
  }));
}

/** Signing and verification calls per media type, most first. */
export async function usageByFormat(db: Db, window: UsageWindow): Promise<Array<{ format: string; count: number }>> {
  const rows = await inWindow(db, window)
    .where('format', '!=', '')
    .where('operation', 'in', [...SIGN_OPERATIONS, ...VERIFY_OPERATIONS])
    .select(['format', sql<number>`count(*)`.as('count')])
    .groupBy('format')
    .orderBy('count', 'desc')
    .orderBy('format')
    .execute();
  return rows.map((r) => ({ format: r.format, count: Number(r.count) }));
}

export async function recentFailedCalls(db: Db, window: UsageWindow, limit: number): Promise<AuditEventRow[]> {
  return inWindow(db, window).selectAll().where('status', '=', 'error').orderBy('occurred_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}
