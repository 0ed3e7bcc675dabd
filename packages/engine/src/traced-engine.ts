import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { C2paEngine } from './types.js';

const tracer = trace.getTracer('c2pa-mesh');

function job<T>(name: string, attributes: Attributes, work: () => Promise<T>, done?: (span: Span, result: T) => void): Promise<T> {
  // Active, so that what the job calls back on the main thread (the claim signer's SignData and
  // time-stamp calls) are its children.
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      const result = await work();
      done?.(span, result);
      return result;
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * The engine with a span around each job as the main thread sees it: waiting in the queue and
 * running on a worker (the worker threads themselves have no tracer). Sizes are read before the
 * call, since `transferAsset` detaches the asset.
 */
export function withEngineSpans(engine: C2paEngine): C2paEngine {
  const traced: Pick<C2paEngine, 'sign' | 'read'> = {
    sign: (o) =>
      job('c2pa.engine sign', { 'c2pamesh.format': o.format, 'c2pamesh.asset_bytes': o.asset.byteLength }, () => engine.sign(o), (span, result) =>
        span.setAttribute('c2pamesh.signed_asset_bytes', result.signedAsset.byteLength),
      ),
    read: (o) =>
      job('c2pa.engine read', { 'c2pamesh.format': o.format, 'c2pamesh.asset_bytes': o.asset.byteLength }, () => engine.read(o), (span, report) =>
        span.setAttribute('c2pamesh.validation_state', report?.validationState ?? 'no manifest'),
      ),
  };
  // Every other member (warmup, stats, close, …) is the engine's own.
  return Object.assign(Object.create(engine) as C2paEngine, traced);
}
