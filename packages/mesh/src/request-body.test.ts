/**
 * Request bodies over a real TLS listener: unary calls are read by the listener's own body reader
 * (packages/server/src/request-body.ts), streaming calls by Connect's. Every protocol and HTTP
 * version must deliver the asset intact, the read limit must hold while the body streams in, and
 * a caller that gives up mid-upload must leave the listener serving.
 */
import { readFile } from 'node:fs/promises';
import http2 from 'node:http2';
import path from 'node:path';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import type { RunningListener } from '@c2pa-mesh/server';
import { VerificationService, verificationV1 } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../../../test/support/cleanup.js';
import { createTestMesh, startTestListener, type TestMesh } from './testing.js';

const MEDIA = path.resolve(import.meta.dirname, '../../../test/fixtures/media');
/** Small enough that a test can go over it; the signed fixture fits. */
const READ_MAX_BYTES = 512 * 1024;

let mesh: TestMesh;
let listener: RunningListener;
let signedJpeg: Uint8Array;
let tls: { ca: string; cert: string; key: string };

beforeAll(async () => {
  mesh = await createTestMesh();
  signedJpeg = new Uint8Array(await readFile(path.join(MEDIA, 'C.jpg')));
  ({ listener, adminTls: tls } = await startTestListener(mesh, { readMaxBytes: READ_MAX_BYTES }));
}, 120_000);

afterAll(() => cleanUp({ listener: () => listener?.close(0), mesh: () => mesh?.close() }));

const nodeOptions = () => ({ ca: tls.ca, cert: tls.cert, key: tls.key });
const transports = {
  'Connect, binary, HTTP/2': () => createConnectTransport({ baseUrl: listener.url, httpVersion: '2', nodeOptions: nodeOptions() }),
  'Connect, JSON, HTTP/1.1': () => createConnectTransport({ baseUrl: listener.url, httpVersion: '1.1', useBinaryFormat: false, nodeOptions: nodeOptions() }),
  'gRPC': () => createGrpcTransport({ baseUrl: listener.url, nodeOptions: nodeOptions() }),
  'gRPC-Web, HTTP/1.1': () => createGrpcWebTransport({ baseUrl: listener.url, httpVersion: '1.1', nodeOptions: nodeOptions() }),
};

/** The signed fixture verifies VALID (its signer is not a mesh anchor): proof that every byte arrived. */
async function verifiesIntact(client: ReturnType<typeof createClient<typeof VerificationService>>) {
  const answer = await client.verify({ asset: signedJpeg, format: 'image/jpeg' });
  expect(answer.validationState).toBe(verificationV1.ValidationState.VALID);
  expect(answer.assetSha256).toMatch(/^sha256:/);
}

describe('unary request bodies over TLS', () => {
  for (const [name, transport] of Object.entries(transports)) {
    it(`deliver the signed JPEG intact: ${name}`, async () => {
      await verifiesIntact(createClient(VerificationService, transport()));
    }, 60_000);
  }

  it('a message over the read limit is refused with resource_exhausted, and the listener serves on', async () => {
    const client = createClient(VerificationService, transports['Connect, binary, HTTP/2']());
    const error = await client.verify({ asset: new Uint8Array(READ_MAX_BYTES + 1024), format: 'image/jpeg' }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.ResourceExhausted);
    await verifiesIntact(client);
  }, 60_000);

  it('a body sent in pieces without a length is refused with resource_exhausted once it passes the limit', async () => {
    // Connect binary: the message is the body; 20 pieces of 32 KiB, the upload never ended.
    const answer = await new Promise<{ headers: http2.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const session = http2.connect(listener.url, nodeOptions());
      session.on('error', reject);
      const stream = session.request({ ':method': 'POST', ':path': '/c2pamesh.verification.v1.VerificationService/Verify', 'content-type': 'application/proto' });
      let headers: http2.IncomingHttpHeaders = {};
      let body = '';
      stream.on('response', (h) => (headers = h));
      stream.on('data', (chunk) => (body += chunk));
      stream.on('end', () => {
        session.destroy();
        resolve({ headers, body });
      });
      stream.on('error', () => {});
      for (let i = 0; i < 20; i++) stream.write(new Uint8Array(32 * 1024));
    });
    expect(answer.headers[':status']).toBe(429);
    expect(JSON.parse(answer.body).code).toBe('resource_exhausted');
    await verifiesIntact(createClient(VerificationService, transports['Connect, binary, HTTP/2']()));
  }, 60_000);

  it('a caller that resets the stream mid-upload leaves the listener serving', async () => {
    const session = http2.connect(listener.url, nodeOptions());
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/c2pamesh.verification.v1.VerificationService/Verify', 'content-type': 'application/proto' });
      stream.on('error', () => {});
      stream.write(new Uint8Array(64 * 1024));
      await new Promise((resolve) => setTimeout(resolve, 50));
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await new Promise((resolve) => stream.once('close', resolve));
    } finally {
      session.close();
    }
    await verifiesIntact(createClient(VerificationService, transports['Connect, binary, HTTP/2']()));
  }, 60_000);
});
