import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import { isMeshError } from '@c2pa-mesh/errors';
import type { C2paEngine } from '@c2pa-mesh/engine';
import { createRpcMetrics, type CallAdmission, type RpcMetrics } from '@c2pa-mesh/server';
import type { CertificateAuthority } from '@c2pa-mesh/service-certificate-authority';
import { databasePoolStats, webhookBacklog, type Database } from '@c2pa-mesh/storage';

/**
 * The metrics of one mesh, in a registry of its own: several meshes can run in one process (tests)
 * without their metrics colliding in prom-client's global registry.
 */
export interface MeshMetrics {
  registry: Registry;
  rpc: RpcMetrics;
  /** `admission` with its rate-limit refusals counted. */
  countRefusals(admission: CallAdmission): CallAdmission;
  observeEngine(engine: C2paEngine): void;
  observeCertificateAuthority(ca: CertificateAuthority): void;
  observeDatabase(db: Database): void;
  observeWebhookBacklog(db: Database): void;
  /** Node's process, heap, event-loop and GC metrics; once, for a mesh that serves /metrics. */
  collectRuntimeMetrics(): void;
}

/** A scrape does not wait longer than this for the database (the backlog query). */
const SCRAPE_QUERY_TIMEOUT_MS = 2000;

export function createMeshMetrics(logger: Logger): MeshMetrics {
  const registry = new Registry();
  const registers = [registry];

  /**
   * A counter fed from a running total kept elsewhere (the engine, the CA), read at scrape time:
   * prom-client counters only go up by `inc`, so each scrape adds what the total grew by.
   */
  function totalCounter<L extends string>(name: string, help: string, labelNames: L[], read: () => Array<[Record<L, string>, number]>) {
    const seen = new Map<string, number>();
    new Counter<L>({
      name,
      help,
      labelNames,
      registers,
      collect() {
        for (const [labels, total] of read()) {
          const key = JSON.stringify(labels);
          const grown = total - (seen.get(key) ?? 0);
          if (grown > 0) (this as Counter<L>).inc(labels, grown);
          if (grown > 0 || !seen.has(key)) seen.set(key, total);
        }
      },
    });
  }
  const single = (read: () => number) => () => [[{}, read()]] as Array<[Record<never, string>, number]>;
  function gauge(name: string, help: string, read: () => number) {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  }

  const rateLimitRefusals = new Counter({
    name: 'c2pamesh_rate_limit_refusals_total',
    help: 'Calls refused by a rate limit (resource_exhausted), by service, method and whether the caller had a valid credential.',
    labelNames: ['service', 'method', 'caller'],
    registers,
  });

  return {
    registry,
    rpc: createRpcMetrics(registry),

    countRefusals(admission) {
      return {
        async admit(call) {
          try {
            return await admission.admit(call);
          } catch (err) {
            if (isMeshError(err) && err.code === 'resource_exhausted') {
              const [service = '', method = ''] = call.operation.split('/');
              rateLimitRefusals.inc({ service, method, caller: call.identity ? 'identified' : 'anonymous' });
            }
            throw err;
          }
        },
      };
    },

    observeEngine(engine) {
      gauge('c2pamesh_engine_threads', 'Live C2PA engine worker threads.', () => engine.stats().threads);
      gauge('c2pamesh_engine_queue_depth', 'Engine tasks waiting for a worker.', () => engine.stats().queued);
      gauge('c2pamesh_engine_tasks_running', 'Engine tasks on a worker now.', () => engine.stats().running);
      gauge('c2pamesh_engine_wasm_memory_max_bytes', 'The largest WebAssembly memory any engine worker has had after a task.', () => engine.stats().largestMemoryBytes);
      totalCounter('c2pamesh_engine_tasks_completed_total', 'Engine tasks a worker finished.', [], single(() => engine.stats().completed));
      totalCounter('c2pamesh_engine_workers_recycled_total', 'Engine workers replaced after a large job, to return WebAssembly memory.', [], single(() => engine.stats().recycled));
      totalCounter('c2pamesh_engine_workers_terminated_total', 'Engine workers terminated because their task was aborted or ran out of time.', [], single(() => engine.stats().terminated));
      totalCounter('c2pamesh_engine_jobs_over_budget_total', 'Engine jobs stopped because they ran longer than their time budget (MESH_ENGINE_JOB_TIMEOUT_MS).', [], single(() => engine.stats().overBudget));
      // By kind only: a label per project would let the number of series grow with the tenants.
      const queueWait = new Histogram({
        name: 'c2pamesh_engine_queue_wait_seconds',
        help: 'Time an engine job waited for a worker, by kind (sign, read).',
        labelNames: ['kind'],
        buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      });
      engine.onJobStart((job) => {
        if (job.kind !== 'ping') queueWait.observe({ kind: job.kind }, job.waitedMs / 1000);
      });
    },

    observeCertificateAuthority(ca) {
      totalCounter('c2pamesh_ocsp_requests_total', 'OCSP requests answered by the responder (POST /ocsp, GET /ocsp/...).', [], single(() => ca.ocsp.counts.requests));
      totalCounter('c2pamesh_ocsp_cache_hits_total', 'OCSP requests answered from a pre-signed response (hit rate: divide by c2pamesh_ocsp_requests_total).', [], single(() => ca.ocsp.counts.cacheHits));
      totalCounter('c2pamesh_ocsp_responses_signed_total', 'OCSP responses signed (responder misses, nonces, CheckStatus and stapling).', [], single(() => ca.ocsp.counts.signed));
      gauge('c2pamesh_ocsp_cache_entries', 'Pre-signed OCSP responses held.', () => ca.ocsp.size);
      totalCounter('c2pamesh_tsa_requests_total', 'RFC 3161 time-stamp requests, by outcome (granted, rejected, failed).', ['outcome'], () => [
        [{ outcome: 'granted' }, ca.tsaCounts.granted],
        [{ outcome: 'rejected' }, ca.tsaCounts.rejected],
        [{ outcome: 'failed' }, ca.tsaCounts.failed],
      ]);
    },

    observeDatabase(db) {
      const stats = databasePoolStats(db);
      if (!stats) return;
      const driver = stats.driver;
      const poolGauge = (name: string, help: string, read: (s: NonNullable<typeof stats>) => number) =>
        new Gauge({
          name,
          help,
          labelNames: ['driver'],
          registers,
          collect() {
            const now = databasePoolStats(db);
            if (now) this.set({ driver }, read(now));
          },
        });
      poolGauge('c2pamesh_db_pool_max_connections', 'Database connections allowed (PGlite: its one connection).', (s) => s.max);
      poolGauge('c2pamesh_db_pool_open_connections', 'Database connections open.', (s) => s.open);
      poolGauge('c2pamesh_db_pool_idle_connections', 'Open database connections not in use.', (s) => s.idle);
      poolGauge('c2pamesh_db_pool_waiting', 'Queries waiting for a database connection.', (s) => s.waiting);
    },

    observeWebhookBacklog(db) {
      let last: Awaited<ReturnType<typeof webhookBacklog>> | undefined;
      let pendingScrape: Promise<void> | undefined;
      // One query per scrape for the three gauges; a database that does not answer keeps the last values.
      const refresh = () =>
        (pendingScrape ??= (async () => {
          let timer: NodeJS.Timeout | undefined;
          try {
            last = await Promise.race([
              webhookBacklog(db),
              new Promise<never>((_, reject) => {
                timer = setTimeout(() => reject(new Error(`no answer within ${SCRAPE_QUERY_TIMEOUT_MS} ms`)), SCRAPE_QUERY_TIMEOUT_MS);
              }),
            ]);
          } catch (err) {
            logger.warn({ err }, 'webhook backlog could not be read for metrics');
          } finally {
            clearTimeout(timer);
            pendingScrape = undefined;
          }
        })());
      const backlogGauge = (name: string, help: string, read: (b: NonNullable<typeof last>) => number) =>
        new Gauge({
          name,
          help,
          registers,
          async collect() {
            await refresh();
            if (last) this.set(read(last));
          },
        });
      backlogGauge('c2pamesh_webhook_deliveries_pending', 'Webhook deliveries not yet made (waiting for their first attempt or a retry).', (b) => b.pending);
      backlogGauge('c2pamesh_webhook_deliveries_due', 'Pending webhook deliveries due now.', (b) => b.due);
      backlogGauge('c2pamesh_webhook_oldest_due_seconds', 'How long the oldest due webhook delivery has waited.', (b) => b.oldestDueSeconds);
    },

    collectRuntimeMetrics() {
      collectDefaultMetrics({ register: registry });
    },
  };
}
