import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { createClient, createHandlerContext, type HandlerContext } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { SigningService, signingV1 } from '@c2pa-mesh/proto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mayMoveRequestBytes } from './context.js';
import { startTlsListener, type RunningListener } from './tls-server.js';

/**
 * Whether a handler may move a request's bytes to another thread: only for messages the TLS
 * listener decoded for the call, never for a message an in-process caller shares.
 */

const dir = mkdtempSync(path.join(os.tmpdir(), 'tls-server-messages-'));
let listener: RunningListener;
let ca: Buffer;

/** The handler answers whether it may move the asset, and whether the asset has a buffer of its own. */
function answer(req: signingV1.SignRequest, ctx: HandlerContext) {
  const own = req.asset.buffer.byteLength < 2 * req.asset.byteLength;
  return create(signingV1.SignResponseSchema, { format: `${mayMoveRequestBytes(ctx, req.asset)} ${own}` });
}

beforeAll(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  ca = readFileSync(path.join(dir, 'cert.pem'));
  listener = await startTlsListener({
    host: '127.0.0.1',
    port: 0,
    certificatePem: ca.toString(),
    privateKeyPem: readFileSync(path.join(dir, 'key.pem'), 'utf8'),
    clientCaPem: ca.toString(),
    routes: (router) => router.service(SigningService, { sign: answer }),
    interceptors: [],
    logger: pino({ level: 'silent' }),
  });
});

afterAll(async () => {
  await listener?.close(0);
  rmSync(dir, { recursive: true, force: true });
});

describe('request messages decoded by the TLS listener', () => {
  const asset = new Uint8Array(256 * 1024).map((_, i) => i & 0xff);

  it.each([
    ['Connect binary', () => createConnectTransport({ baseUrl: listener.url, httpVersion: '2', nodeOptions: { ca } })],
    ['Connect JSON', () => createConnectTransport({ baseUrl: listener.url, httpVersion: '2', useBinaryFormat: false, nodeOptions: { ca } })],
    ['gRPC', () => createGrpcTransport({ baseUrl: listener.url, nodeOptions: { ca } })],
  ])('%s: the asset is the call’s own, in a buffer of its own, and may move', async (_name, transport) => {
    const client = createClient(SigningService, transport());
    expect((await client.sign({ asset, format: 'image/jpeg' })).format).toBe('true true');
  });

  it('a message an in-process caller hands over may not move', () => {
    const context = createHandlerContext({ service: SigningService, method: SigningService.method.sign, protocolName: 'in-process', requestMethod: 'POST', url: '/' });
    expect(answer(create(signingV1.SignRequestSchema, { asset }), context).format).toBe('false true');
  });
});
