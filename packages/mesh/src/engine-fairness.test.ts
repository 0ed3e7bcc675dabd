/**
 * The engine queue between projects, through the real Sign RPC: two projects, each with its own
 * API key, over the TLS listener, on a mesh with one engine worker. Order is read from the order in
 * which jobs reach that worker, never from how long anything takes.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { RegistryService, SigningService } from '@c2pa-mesh/proto';
import type { ClaimSigner } from '@c2pa-mesh/engine';
import type { RunningListener } from '@c2pa-mesh/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestMesh, startTestListener, type TestMesh } from './testing.js';

const MEDIA = path.resolve(import.meta.dirname, '../../../test/fixtures/media');
const PER_PROJECT = 20;

let mesh: TestMesh;
let listener: RunningListener;
let signing: ReturnType<typeof createClient<typeof SigningService>>;
const keys: Record<'a' | 'b', { project: string; key: string }> = { a: { project: '', key: '' }, b: { project: '', key: '' } };

beforeAll(async () => {
  mesh = await createTestMesh({ MESH_ENGINE_THREADS: '1', MESH_ENGINE_MAX_QUEUE_PER_PROJECT: String(PER_PROJECT) });
  const started = await startTestListener(mesh);
  listener = started.listener;
  const transport = createGrpcTransport({ baseUrl: listener.url, nodeOptions: { ca: started.adminTls.ca, cert: started.adminTls.cert, key: started.adminTls.key } });
  const registry = createClient(RegistryService, transport);
  for (const tenant of ['a', 'b'] as const) {
    const { projectId } = await registry.createProject({ name: `Tenant ${tenant.toUpperCase()}` });
    const { key } = await registry.createApiKey({ projectId, name: `${tenant} key`, scopes: ['sign'] });
    keys[tenant] = { project: projectId, key };
  }
  // API-key callers: the listener's CA only, no client certificate.
  signing = createClient(SigningService, createGrpcTransport({ baseUrl: listener.url, nodeOptions: { ca: started.adminTls.ca } }));
}, 120_000);

afterAll(async () => {
  await listener?.close(0);
  await mesh?.close();
});

/** Holds the one engine worker with a job of the mesh's own until `release()`. */
function holdWorker(): { release(): void; done: Promise<unknown> } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let called!: () => void;
  const signerCalled = new Promise<void>((resolve) => (called = resolve));
  const signer: ClaimSigner = {
    alg: 'es256',
    reserveSize: 20_000,
    sign: async () => {
      called();
      await released;
      throw new Error('the holding job is not meant to be signed');
    },
  };
  const done = readFile(path.join(MEDIA, 'no_manifest.jpg')).then((asset) =>
    mesh.engine!.sign({
      format: 'image/jpeg',
      asset,
      signer,
      manifestDefinition: JSON.stringify({ title: 'hold', assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture' }] } }] }),
    }),
  ).catch((error: unknown) => error);
  return { release, done: signerCalled.then(() => done) };
}

describe('the engine queue through the Sign RPC', () => {
  it("starts project B's Sign no later than second although project A sent 20 first, and refuses A's 21st waiting Sign", async () => {
    const asset = await readFile(path.join(MEDIA, 'no_manifest.jpg'));
    const started: string[] = [];
    const stop = mesh.engine!.onJobStart((job) => {
      if (job.kind === 'sign') started.push(job.tenant === keys.a.project ? 'A' : job.tenant === keys.b.project ? 'B' : 'mesh');
    });
    const sign = (tenant: 'a' | 'b') =>
      signing.sign({ asset, format: 'image/jpeg' }, { headers: { authorization: `Bearer ${keys[tenant].key}` } });
    try {
      const hold = holdWorker();
      await vi.waitFor(() => expect(mesh.engine!.stats().running).toBe(1), { timeout: 30_000, interval: 10 });

      const a = Array.from({ length: PER_PROJECT }, () => sign('a'));
      await vi.waitFor(() => expect(mesh.engine!.stats().queued).toBe(PER_PROJECT), { timeout: 30_000, interval: 10 });
      // A's queue is full: one more is refused at once, with what to do about it.
      const refused = await sign('a').then(() => undefined, (error: unknown) => ConnectError.from(error));
      expect(refused?.code).toBe(Code.ResourceExhausted);
      expect(refused?.rawMessage).toBe(`this project already has ${PER_PROJECT} C2PA engine jobs waiting, the most one project may queue; retry later, or send fewer calls at once`);

      // B is not refused, and waits behind at most one of A's jobs.
      const b = sign('b');
      await vi.waitFor(() => expect(mesh.engine!.stats().queued).toBe(PER_PROJECT + 1), { timeout: 30_000, interval: 10 });
      hold.release();
      await hold.done;

      const [signedB, ...signedA] = await Promise.all([b, ...a]);
      expect(signedB.assetId).toMatch(/^ast_/);
      expect(new Set(signedA.map((s) => s.assetId)).size).toBe(PER_PROJECT);
      expect(started).toHaveLength(2 + PER_PROJECT);
      expect(started[0]).toBe('mesh');
      expect(started.indexOf('B')).toBeLessThanOrEqual(2);
      expect(started.filter((t) => t === 'A')).toHaveLength(PER_PROJECT);
    } finally {
      stop();
    }
  }, 120_000);
});
