import { ConnectError, type Interceptor, type StreamResponse } from '@connectrpc/connect';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { codeName } from './error-mapping.js';

export interface RpcMetrics {
  requests: Counter<'service' | 'method' | 'code'>;
  duration: Histogram<'service' | 'method' | 'code'>;
  inFlight: Gauge<'service' | 'method'>;
}

/** Seconds; from a health check to a large asset signed near the engine's 60 s task limit. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** The per-RPC metrics, registered in `registry` (one registry per mesh). */
export function createRpcMetrics(registry: Registry): RpcMetrics {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'c2pamesh_rpc_requests_total',
      help: 'RPCs finished, by full service name, method and Connect code (ok, invalid_argument, ...).',
      labelNames: ['service', 'method', 'code'],
      registers,
    }),
    duration: new Histogram({
      name: 'c2pamesh_rpc_duration_seconds',
      help: 'RPC latency from the first interceptor to the last response message, by code.',
      labelNames: ['service', 'method', 'code'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    inFlight: new Gauge({
      name: 'c2pamesh_rpc_in_flight',
      help: 'RPCs started and not yet finished (streams until their last message).',
      labelNames: ['service', 'method'],
      registers,
    }),
  };
}

/**
 * Counts and times every RPC. First in the interceptor list, so that it sees the code the caller
 * gets: the errors the inner interceptors have already mapped.
 */
export function createMetricsInterceptor(metrics: RpcMetrics): Interceptor {
  return (next) => async (req) => {
    const labels = { service: req.service.typeName, method: req.method.name };
    const started = performance.now();
    metrics.inFlight.inc(labels);
    let finished = false;
    const finish = (error: unknown) => {
      if (finished) return;
      finished = true;
      const code = error === undefined ? 'ok' : codeName(ConnectError.from(error).code);
      metrics.inFlight.dec(labels);
      metrics.requests.inc({ ...labels, code });
      metrics.duration.observe({ ...labels, code }, (performance.now() - started) / 1000);
    };
    let res;
    try {
      res = await next(req);
    } catch (error) {
      finish(error);
      throw error;
    }
    if (!res.stream) {
      finish(undefined);
      return res;
    }
    const source = res.message;
    async function* observed() {
      let failure: unknown;
      try {
        yield* source;
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        // Also reached when the caller cancels mid-stream (the generator is returned early).
        finish(failure);
      }
    }
    return { ...res, message: observed() } as StreamResponse;
  };
}
