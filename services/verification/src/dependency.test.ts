import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { isMeshError } from '@c2pa-mesh/errors';
import { Health } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callDependency } from './dependency.js';

describe('a call to another service', () => {
  // A real HTTP/2 peer: one that drops the connection mid-call (a replica killed with -9, as the
  // client sees it through a TCP load balancer), one that answers with a refusal.
  let dropping: http2.Http2Server;
  let refusing: http2.Http2Server;
  // The clients keep their connections open: closing a server waits for them, so they are ended.
  const sessions = new Set<http2.ServerHttp2Session>();
  const url = (server: http2.Http2Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  beforeAll(async () => {
    dropping = http2.createServer();
    dropping.on('stream', (stream) => stream.session?.destroy());
    refusing = http2.createServer();
    refusing.on('stream', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '7', 'grpc-message': 'not this caller' }, { endStream: true });
    });
    for (const server of [dropping, refusing]) server.on('session', (session) => sessions.add(session));
    await Promise.all([dropping, refusing].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
  });
  afterAll(async () => {
    for (const session of sessions) session.destroy();
    await Promise.all([dropping, refusing].map((s) => new Promise((resolve) => s.close(resolve))));
  });

  const health = (server: http2.Http2Server) => createClient(Health, createGrpcTransport({ baseUrl: url(server) }));

  it('whose connection is cut is unavailable (retry later), not internal', async () => {
    const error = await callDependency('asking the other service', () => health(dropping).check({})).catch((e: unknown) => e);
    expect(isMeshError(error) && error.code).toBe('unavailable');
    expect((error as Error).message).toMatch(/^asking the other service is not possible right now \(.*\); retry later$/);
  });

  it('that the other service refuses stays internal: the mesh misconfigured, not the caller', async () => {
    const error = await callDependency('asking the other service', () => health(refusing).check({})).catch((e: unknown) => e);
    expect(isMeshError(error) && error.code).toBe('internal');
  });
});
