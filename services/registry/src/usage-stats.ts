import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { registryV1 } from '@c2pa-mesh/proto';
import { recentFailedCalls, usageByDay, usageByFormat, usageByProject, usageTotals, type UsageWindow } from '@c2pa-mesh/storage';
import { requestedProject } from '@c2pa-mesh/server';
import type { RegistryServiceDeps } from './deps.js';
import { toAuditEvent } from './messages.js';

const DAY_MS = 86_400_000;
const DAYS = 30;
const RECENT_ERRORS = 20;

function utcMidnight(time: number): Date {
  return new Date(Math.floor(time / DAY_MS) * DAY_MS);
}

/** The dashboard figures, from the audit log (one event per call), over UTC days. */
export async function getUsageStats(deps: RegistryServiceDeps, req: registryV1.GetUsageStatsRequest, ctx: HandlerContext) {
  const todayStart = utcMidnight(Date.now());
  const window: UsageWindow = {
    projectId: requestedProject(ctx, req.projectId),
    todayStart,
    weekStart: new Date(todayStart.getTime() - 6 * DAY_MS),
    since: new Date(todayStart.getTime() - (DAYS - 1) * DAY_MS),
  };
  const [totals, projects, days, formats, errors] = await Promise.all([
    usageTotals(deps.db, window),
    usageByProject(deps.db, window),
    usageByDay(deps.db, window),
    usageByFormat(deps.db, window),
    recentFailedCalls(deps.db, window, RECENT_ERRORS),
  ]);
  const byDate = new Map(days.map((d) => [d.date, d]));
  const daily = Array.from({ length: DAYS }, (_, i) => {
    const date = new Date(window.since.getTime() + i * DAY_MS).toISOString().slice(0, 10);
    const day = byDate.get(date);
    return create(registryV1.DailyActivitySchema, {
      date,
      requests: BigInt(day?.requests ?? 0),
      successes: BigInt(day?.successes ?? 0),
      errors: BigInt(day?.errors ?? 0),
      averageMs: day?.averageMs ?? 0,
      p50Ms: day?.p50Ms ?? 0,
    });
  });
  return create(registryV1.GetUsageStatsResponseSchema, {
    todayRequests: BigInt(totals.today),
    weekRequests: BigInt(totals.week),
    successRate: totals.requests === 0 ? 0 : totals.successes / totals.requests,
    averageDurationMs: totals.averageMs,
    projects: projects.map((p) =>
      create(registryV1.ProjectUsageSchema, {
        projectId: p.projectId,
        projectName: p.projectName,
        requests: BigInt(p.requests),
        successes: BigInt(p.successes),
        errors: BigInt(p.errors),
        signs: BigInt(p.signs),
        verifies: BigInt(p.verifies),
        averageMs: p.averageMs,
        lastUsedAt: p.lastUsedAt?.toISOString() ?? '',
      }),
    ),
    daily,
    byFormat: formats.map((f) => create(registryV1.FormatCountSchema, { format: f.format, count: BigInt(f.count) })),
    recentErrors: errors.map(toAuditEvent),
  });
}
