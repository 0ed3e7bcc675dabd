import { SpanStatusCode, context, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';

/**
 * The mesh's tracer. Until an SDK is registered (OTEL_EXPORTER_OTLP_ENDPOINT, see the mesh's
 * start-up) it is the API's no-op tracer: spans are not recorded and cost a few allocations.
 */
export const meshTracer = trace.getTracer('c2pa-mesh');

/** Header access for the W3C propagator over Fetch `Headers`, which Connect uses on both sides. */
export const headerGetter = {
  keys: (headers: Headers) => [...headers.keys()],
  get: (headers: Headers, key: string) => headers.get(key) ?? undefined,
};
export const headerSetter = {
  set: (headers: Headers, key: string, value: string) => headers.set(key, value),
};

/** Ends a span with the error's message as its status, or OK. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

/** Runs `work` inside an internal span that ends, with the outcome, when the work settles. */
export async function inSpan<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  return meshTracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      const result = await work(span);
      endSpan(span);
      return result;
    } catch (error) {
      endSpan(span, error);
      throw error;
    }
  });
}

/**
 * A response stream read inside `ctx` (the transport pulls it after the interceptor returned,
 * outside the span), calling `done` once when it ends, fails, is abandoned or its call is
 * cancelled (`signal`: Connect's clients stop reading a stream by aborting, never by return()).
 */
export function streamInContext<T>(source: AsyncIterable<T>, ctx: Context, signal: AbortSignal, done: (error?: unknown) => void): AsyncIterable<T> {
  let finished = false;
  const onAbort = () => finish(signal.reason ?? new Error('the call was cancelled'));
  const finish = (error?: unknown) => {
    if (finished) return;
    finished = true;
    signal.removeEventListener('abort', onAbort);
    done(error);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return {
    [Symbol.asyncIterator]() {
      const iterator = source[Symbol.asyncIterator]();
      return {
        async next() {
          try {
            const step = await context.with(ctx, () => iterator.next());
            if (step.done) finish();
            return step;
          } catch (error) {
            finish(error);
            throw error;
          }
        },
        async return(value?: unknown) {
          finish();
          return (await iterator.return?.(value)) ?? { done: true, value: undefined };
        },
        async throw(error?: unknown) {
          finish(error);
          if (iterator.throw) return iterator.throw(error);
          throw error;
        },
      };
    },
  };
}
