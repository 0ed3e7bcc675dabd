import { ConnectError, type Interceptor, type StreamResponse } from '@connectrpc/connect';
import { SpanKind, SpanStatusCode, context, propagation, trace, type Span } from '@opentelemetry/api';
import { callKey } from './context.js';
import { codeName } from './error-mapping.js';
import { headerGetter, meshTracer, streamInContext } from './tracing.js';

function finishServerSpan(span: Span, requestId: string | undefined, error?: unknown): void {
  const connectError = error === undefined ? undefined : ConnectError.from(error);
  // The code as the mesh names it everywhere else (logs, audit): ok, invalid_argument, …
  span.setAttribute('c2pamesh.code', connectError ? codeName(connectError.code) : 'ok');
  span.setAttribute('rpc.grpc.status_code', connectError?.code ?? 0);
  if (requestId) span.setAttribute('c2pamesh.request_id', requestId);
  if (connectError) {
    span.setAttribute('rpc.connect_rpc.error_code', codeName(connectError.code));
    span.setStatus({ code: SpanStatusCode.ERROR, message: connectError.rawMessage });
  }
  span.end();
}

/**
 * One server span per RPC, continuing the trace the caller sent in `traceparent` (another mesh
 * process, an in-process mesh client, or an outside client). Placed first among the server
 * interceptors, so that the span covers authentication and carries the code the caller gets.
 */
export function createTracingInterceptor(): Interceptor {
  return (next) => async (req) => {
    const parent = propagation.extract(context.active(), req.header, headerGetter);
    const span = meshTracer.startSpan(
      `${req.service.typeName}/${req.method.name}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'rpc.system': 'connect_rpc', 'rpc.service': req.service.typeName, 'rpc.method': req.method.name },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    const requestId = () => req.contextValues.get(callKey)?.requestId;
    try {
      const res = await context.with(active, () => next(req));
      if (!res.stream) {
        finishServerSpan(span, requestId());
        return res;
      }
      return { ...res, message: streamInContext(res.message, active, req.signal, (error) => finishServerSpan(span, requestId(), error)) } as StreamResponse;
    } catch (error) {
      finishServerSpan(span, requestId(), error);
      throw error;
    }
  };
}
