import { Code, ConnectError, createClient, createRouterTransport, type Interceptor } from '@connectrpc/connect';
import { Health } from '@c2pa-mesh/proto';
import { createHealthService, createTracingInterceptor, toConnectError } from '@c2pa-mesh/server';
import { NodeSDK, tracing } from '@opentelemetry/sdk-node';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createTracePropagationInterceptor } from './trace-propagation.js';

const SERVING = 'c2pamesh.signing.v1.SigningService';

/** A Health client through Connect's router transport, the tracing interceptors on both sides. */
function healthClient(seen: string[]) {
  // What arrives at the server: the traceparent header, if any.
  const record: Interceptor = (next) => async (req) => {
    seen.push(req.header.get('traceparent') ?? '');
    return next(req);
  };
  // Domain errors become Connect codes as the mesh interceptor does it.
  const mapErrors: Interceptor = (next) => async (req) => {
    try {
      return await next(req);
    } catch (cause) {
      throw toConnectError(cause, 'req_test-trace').connectError;
    }
  };
  const transport = createRouterTransport(({ service }) => service(Health, createHealthService({ services: [SERVING], serving: () => true })), {
    router: { interceptors: [createTracingInterceptor(), mapErrors, record] },
    transport: { interceptors: [createTracePropagationInterceptor('in-process')] },
  });
  return createClient(Health, transport);
}

describe('trace propagation between mesh services', () => {
  let sdk: NodeSDK | undefined;
  afterAll(() => sdk?.shutdown());

  it('sends no traceparent and records nothing while no SDK is started', async () => {
    const seen: string[] = [];
    expect((await healthClient(seen).check({ service: SERVING })).status).toBe(1);
    expect(seen).toEqual(['']);
  });

  it('with an SDK, the client span is the parent of the server span, which carries service, method and code', async () => {
    const exporter = new tracing.InMemorySpanExporter();
    const processor = new tracing.SimpleSpanProcessor(exporter);
    sdk = new NodeSDK({ spanProcessors: [processor], instrumentations: [], metricReaders: [], logRecordProcessors: [] });
    sdk.start();
    const seen: string[] = [];
    const client = healthClient(seen);
    await client.check({ service: SERVING });
    const refused = await client.check({ service: 'no.such.Service' }).catch((e: unknown) => ConnectError.from(e));
    expect((refused as ConnectError).code).toBe(Code.NotFound);
    // A server stream: its spans end when the caller cancels it.
    const cancel = new AbortController();
    for await (const answer of client.watch({ service: SERVING }, { signal: cancel.signal })) {
      expect(answer.status).toBe(1);
      break;
    }
    cancel.abort();

    // Export waits for the resource detectors; flushing waits for the export. The server learns
    // of the cancelled stream a moment after the client stopped reading.
    await vi.waitFor(async () => {
      await processor.forceFlush();
      expect(exporter.getFinishedSpans()).toHaveLength(6);
    }, { timeout: 5000, interval: 100 });
    const spans = exporter.getFinishedSpans();
    const servers = spans.filter((s) => s.kind === 1);
    const clients = spans.filter((s) => s.kind === 2);
    expect(servers.map((s) => s.name)).toEqual(['grpc.health.v1.Health/Check', 'grpc.health.v1.Health/Check', 'grpc.health.v1.Health/Watch']);
    expect(clients).toHaveLength(3);
    servers.forEach((server, i) => {
      const client = clients.find((c) => c.spanContext().spanId === server.parentSpanContext?.spanId)!;
      expect(client, server.name).toBeDefined();
      expect(server.spanContext().traceId).toBe(client.spanContext().traceId);
      expect(seen[i]).toBe(`00-${client.spanContext().traceId}-${client.spanContext().spanId}-01`);
      expect(client.attributes).toMatchObject({ 'rpc.service': 'grpc.health.v1.Health', 'c2pamesh.transport': 'in-process' });
    });
    expect(servers[0].attributes).toMatchObject({ 'rpc.system': 'connect_rpc', 'rpc.service': 'grpc.health.v1.Health', 'rpc.method': 'Check', 'c2pamesh.code': 'ok', 'rpc.grpc.status_code': 0 });
    expect(servers[1].attributes).toMatchObject({ 'c2pamesh.code': 'not_found', 'rpc.connect_rpc.error_code': 'not_found', 'rpc.grpc.status_code': Code.NotFound });
    expect(servers[1].status).toMatchObject({ code: 2, message: expect.stringContaining('unknown service') });
    expect(clients.find((c) => c.name.endsWith('/Check') && c.status.code === 2)).toBeDefined();
    expect(servers[2].attributes).toMatchObject({ 'rpc.method': 'Watch', 'c2pamesh.code': 'canceled' });
  });
});
