import type { Interceptor, StreamResponse } from '@connectrpc/connect';
import { SpanKind, context, propagation, trace } from '@opentelemetry/api';
import { endSpan, headerSetter, meshTracer, streamInContext } from '@c2pa-mesh/server';

/**
 * One client span per call from one mesh service to another, sent along as W3C `traceparent`
 * (and `tracestate`), so that the receiving service's server span — in this process or another —
 * continues the caller's trace. Without a registered SDK nothing is injected.
 */
export function createTracePropagationInterceptor(target: 'in-process' | 'remote'): Interceptor {
  return (next) => async (req) => {
    const span = meshTracer.startSpan(`${req.service.typeName}/${req.method.name}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'rpc.system': 'connect_rpc',
        'rpc.service': req.service.typeName,
        'rpc.method': req.method.name,
        'c2pamesh.transport': target,
        ...(target === 'remote' ? { 'server.address': new URL(req.url).hostname, 'server.port': Number(new URL(req.url).port) || 443 } : {}),
      },
    });
    const active = trace.setSpan(context.active(), span);
    propagation.inject(active, req.header, headerSetter);
    try {
      const res = await context.with(active, () => next(req));
      if (!res.stream) {
        endSpan(span);
        return res;
      }
      return { ...res, message: streamInContext(res.message, active, req.signal, (error) => endSpan(span, error)) } as StreamResponse;
    } catch (error) {
      endSpan(span, error);
      throw error;
    }
  };
}
