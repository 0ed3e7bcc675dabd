import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import { startRelyingPartyListener, type RelyingPartyListener, type RelyingPartyResponse } from './relying-party.js';

/** One thing `/readyz` waits for; `check` resolves with undefined when ready, else why not. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<string | undefined> | string | undefined;
}

/** A check that has not answered by then counts as not ready (a database that never answers). */
const CHECK_TIMEOUT_MS = 2000;

async function runCheck(check: ReadinessCheck): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => check.check()), timeout]);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

/** `/readyz`: 200 when every check passes, else 503; one line per check either way. */
export async function readinessResponse(checks: ReadinessCheck[]): Promise<RelyingPartyResponse> {
  const results = await Promise.all(checks.map(async (c) => [c.name, await runCheck(c)] as const));
  const ready = results.every(([, problem]) => problem === undefined);
  const body = results.map(([name, problem]) => `${name}: ${problem === undefined ? 'ok' : `not ready: ${problem}`}\n`).join('');
  return { status: ready ? 200 : 503, contentType: 'text/plain; charset=utf-8', body, headers: { 'cache-control': 'no-store' } };
}

/**
 * The operations listener (plain HTTP, no credentials, bound like the RPC listener): Prometheus
 * text at `/metrics`, `/readyz` for load balancers and `/livez` for restarts. Started before the
 * database and the engine, so that probes get an answer (not ready yet) during start-up.
 */
export async function startMetricsListener(options: {
  host: string;
  port: number;
  registry: Registry;
  readiness: ReadinessCheck[];
  logger: Logger;
}): Promise<RelyingPartyListener> {
  const { registry, readiness } = options;
  return startRelyingPartyListener({
    host: options.host,
    port: options.port,
    logger: options.logger,
    routes: [
      { method: 'GET', path: '/metrics', handle: async () => ({ status: 200, contentType: registry.contentType, body: await registry.metrics() }) },
      { method: 'GET', path: '/readyz', handle: () => readinessResponse(readiness) },
      // Alive while the event loop answers: a slow dependency is for /readyz, not a reason to restart.
      { method: 'GET', path: '/livez', handle: () => ({ status: 200, contentType: 'text/plain; charset=utf-8', body: 'ok\n' }) },
    ],
  });
}
