import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { create, toJson } from '@bufbuild/protobuf';
import { StructSchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient, type ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter, createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { MeshError, callDependency, dependencyError, isMeshError, type DependencyErrorOptions } from '@c2pa-mesh/errors';
import { Health, healthV1 } from '@c2pa-mesh/proto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorMappingInterceptor, requestIdInterceptor } from './interceptors.js';

/**
 * The one mapping of dependency errors, end to end over real HTTP/2: a caller asks a front
 * service, which asks a back service through a Connect client and passes its failure through
 * `callDependency`. What the caller hears is what the front's own error mapping makes of it.
 */

const logger = pino({ level: 'silent' });
const interceptors = [requestIdInterceptor(logger), errorMappingInterceptor()];
const sessions = new Set<http2.ServerHttp2Session>();

async function listen(routes: (router: ConnectRouter) => void): Promise<http2.Http2Server> {
  const server = http2.createServer(connectNodeAdapter({ routes, interceptors }));
  server.on('session', (session) => sessions.add(session));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
const url = (server: http2.Http2Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

/** What the back service answers, by the service name the front asks for. */
const BACK_ANSWERS: Record<string, () => never> = {
  missing: () => {
    throw new MeshError('not_found', 'no signer crt_1', { details: { field: 'signer_id', signerId: 'crt_1' } });
  },
  refused: () => {
    throw new MeshError('permission_denied', 'this identity may not sign', { details: { scope: 'ca.sign' } });
  },
};
/** How the front passes each on, by the same name. */
const FRONT_OPTIONS: Record<string, DependencyErrorOptions> = {
  missing: { keep: ['not_found'] },
  refused: { keep: ['not_found'] },
  down: {},
};

let back: http2.Http2Server;
let front: http2.Http2Server;
let closed: http2.Http2Server;
let closedUrl: string;

beforeAll(async () => {
  back = await listen((router) =>
    router.service(Health, {
      check: (req) => BACK_ANSWERS[req.service]!(),
    }),
  );
  // A port that was listened on and closed: nobody answers there.
  closed = await listen(() => {});
  closedUrl = url(closed);
  await new Promise((resolve) => closed.close(resolve));
  front = await listen((router) =>
    router.service(Health, {
      async check(req) {
        const target = req.service === 'down' ? closedUrl : url(back);
        const client = createClient(Health, createGrpcTransport({ baseUrl: target }));
        await callDependency('the back service could not answer', () => client.check({ service: req.service }), FRONT_OPTIONS[req.service]);
        return create(healthV1.HealthCheckResponseSchema, {});
      },
    }),
  );
});
afterAll(async () => {
  for (const session of sessions) session.destroy();
  await Promise.all([back, front].map((s) => new Promise((resolve) => s.close(resolve))));
});

const callers = {
  gRPC: () => createClient(Health, createGrpcTransport({ baseUrl: url(front) })),
  'Connect JSON': () => createClient(Health, createConnectTransport({ baseUrl: url(front), httpVersion: '2' })),
};

async function refusal(call: Promise<unknown>): Promise<ConnectError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

describe.each(Object.entries(callers))('a dependency error as a %s caller hears it', (_name, client) => {
  it('keeps a refusal the front passes on: its code, its message after what was asked, and its details', async () => {
    const error = await refusal(client().check({ service: 'missing' }));
    expect(error.code).toBe(Code.NotFound);
    expect(error.rawMessage).toBe('the back service could not answer: no signer crt_1');
    expect(error.findDetails(StructSchema).map((d) => toJson(StructSchema, d))).toEqual([{ field: 'signer_id', signerId: 'crt_1' }]);
  });

  it('makes any other refusal internal, with neither its message nor its details', async () => {
    const error = await refusal(client().check({ service: 'refused' }));
    expect(error.code).toBe(Code.Internal);
    expect(error.rawMessage).toMatch(/^internal error \(request id [^)]+\)$/);
    expect(error.rawMessage).not.toMatch(/sign/);
    expect(error.findDetails(StructSchema)).toEqual([]);
  });

  it('makes a dependency nobody answers unavailable, with a retry-after', async () => {
    const error = await refusal(client().check({ service: 'down' }));
    expect(error.code).toBe(Code.Unavailable);
    expect(error.rawMessage).toMatch(/^the back service could not answer: .+$/);
    expect(error.metadata.get('retry-after')).toBe('1');
  });
});

describe('dependencyError', () => {
  it('passes on an error raised on this side, and names what failed for anything else', () => {
    const own = new MeshError('invalid_argument', 'bad');
    expect(dependencyError(own, 'x')).toBe(own);
    const thrown = dependencyError(new TypeError('boom'), 'the registry could not read the project');
    expect(isMeshError(thrown) && [thrown.code, thrown.message]).toEqual(['internal', 'the registry could not read the project']);
  });

  it('answers a refusal with another code when asked to', () => {
    const mapped = dependencyError(new ConnectError('no certificate crt_9', Code.NotFound), 'the default signer could not be read', { as: { not_found: 'unavailable' } });
    expect([mapped.code, mapped.message]).toEqual(['unavailable', 'the default signer could not be read: no certificate crt_9']);
  });
});
