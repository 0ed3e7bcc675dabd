import type { IncomingHttpHeaders } from 'node:http';
import { SpanKind, SpanStatusCode, context, defaultTextMapGetter, propagation, trace } from '@opentelemetry/api';
import { meshTracer } from './tracing.js';

interface TracedRequest {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
}
interface TracedResponse {
  statusCode: number;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * A server span per plain HTTP request (the drop-in gateways, the relying-party listener's OCSP
 * and TSA), continuing a caller's `traceparent`: the service calls a gateway request makes, and
 * the database and PKI work of an OCSP or TSA request, are then one trace. The span ends when the
 * response is closed, with its status.
 */
export function withHttpSpan<Req extends TracedRequest, Res extends TracedResponse>(listener: string, handler: (req: Req, res: Res) => unknown): (req: Req, res: Res) => void {
  return (req, res) => {
    const parent = propagation.extract(context.active(), req.headers, defaultTextMapGetter);
    const method = req.method ?? 'GET';
    const route = (req.url ?? '/').split('?', 1)[0];
    const span = meshTracer.startSpan(
      `${method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': route, 'c2pamesh.listener': listener } },
      parent,
    );
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), () => handler(req, res));
  };
}
