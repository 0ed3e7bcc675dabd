import { createHmac } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Code, createClient } from '@connectrpc/connect';
import type { Identity } from '@c2pa-mesh/auth';
import { createInProcessTransport } from '@c2pa-mesh/clients';
import { loadConfig } from '@c2pa-mesh/config';
import { assembleMesh, type MeshAssembly } from '@c2pa-mesh/mesh';
import { ADMIN_IDENTITY } from '@c2pa-mesh/mesh/testing';
import { RegistryService } from '@c2pa-mesh/proto';
import { enqueueWebhookEvent, insertWebhook } from '@c2pa-mesh/storage';
import { createTestDatabase, type TestDatabase } from '@c2pa-mesh/storage/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, removeDir } from '../../../test/support/cleanup.js';
import { failure, SHA256_A, withHeaders, type RegistryClient } from './test-support/registry-test-kit.js';
import { serviceIdentity } from './test-support/service-identities.js';
import { eventually, startWebhookReceiver, type ReceivedDelivery } from './test-support/webhook-receiver.js';
import { createWebhookTargetGuard } from './webhook-targets.js';
import { retryDelayMs } from './webhook-dispatcher.js';
import { verifyWebhookSignature } from './webhook-signature.js';

/** What a receiver does with a delivery: check the signature over "<t>.<body>" with the secret. */
function signatureValid(delivery: ReceivedDelivery, secret: string): boolean {
  const header = String(delivery.headers['x-c2pa-mesh-signature'] ?? '');
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(`${match[1]}.${delivery.body}`).digest('hex');
  return expected === match[2] && Math.abs(Date.now() / 1000 - Number(match[1])) < 300;
}

describe('webhook target guard (SSRF)', () => {
  const guard = createWebhookTargetGuard([]);
  it('takes only https URLs of public addresses by default', async () => {
    expect(await guard.checkUrl('https://93.184.215.14/hooks')).toBe('https://93.184.215.14/hooks');
    for (const url of ['http://93.184.215.14/', 'https://127.0.0.1/', 'https://10.1.2.3/', 'https://169.254.169.254/latest', 'https://[::1]/', 'https://[::ffff:7f00:1]/', 'https://user:pw@93.184.215.14/', 'ftp://x/', 'not a url']) {
      await expect(guard.checkUrl(url)).rejects.toMatchObject({ code: 'invalid_argument' });
    }
  });
  it('refuses names that resolve to private addresses at connect time', async () => {
    const error = await new Promise<Error | null>((resolve) => guard.lookup('localhost', {}, (err) => resolve(err)));
    expect(error?.message).toMatch(/not a public address/);
  });
  it('lets an operator allow hosts, addresses and ranges, over plain http too', async () => {
    const allowing = createWebhookTargetGuard(['127.0.0.1', '10.0.0.0/8', 'hooks.internal']);
    expect(await allowing.checkUrl('http://127.0.0.1:8080/x')).toBe('http://127.0.0.1:8080/x');
    expect(await allowing.checkUrl('https://10.9.8.7/x')).toBe('https://10.9.8.7/x');
    await expect(allowing.checkUrl('https://192.168.1.1/')).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(allowing.addressAllowed('hooks.internal', '192.168.1.1')).toBe(true);
    expect(allowing.addressAllowed('other.example', '192.168.1.1')).toBe(false);
  });
  it('backs off exponentially and gives up after the last attempt', () => {
    const options = { retryBaseMs: 1000, maxRetryDelayMs: 8000, maxAttempts: 6 };
    const delays = [1, 2, 3, 4, 5].map((n) => retryDelayMs(n, options, () => 0.5));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(retryDelayMs(6, options)).toBeUndefined();
  });
  it('verifies signatures as a receiver would, and refuses tampered or stale ones', () => {
    const body = '{"event":"asset.signed"}';
    const t = Math.floor(Date.now() / 1000);
    const header = `t=${t},v1=${createHmac('sha256', 'whsec_x').update(`${t}.${body}`).digest('hex')}`;
    expect(verifyWebhookSignature('whsec_x', body, header)).toBe(true);
    expect(verifyWebhookSignature('whsec_y', body, header)).toBe(false);
    expect(verifyWebhookSignature('whsec_x', `${body} `, header)).toBe(false);
    expect(verifyWebhookSignature('whsec_x', body, header, { nowSeconds: t + 3600 })).toBe(false);
  });
});

describe(`webhooks on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let database: TestDatabase;
  let dataDir: string;
  let assembly: MeshAssembly | undefined;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const env = { MESH_WEBHOOK_ALLOW_HOSTS: '127.0.0.1', MESH_WEBHOOK_RETRY_BASE_MS: '150', MESH_WEBHOOK_POLL_MS: '50' };

  /** Starts the mesh's services (and so the dispatcher) on the test database, as a process would. */
  async function start(): Promise<MeshAssembly> {
    const config = loadConfig({ MESH_DATA_DIR: dataDir, ...env });
    assembly = await assembleMesh(config, database.db, pino({ level: 'silent' }));
    return assembly;
  }
  /** As `identity`, or with no identity: then authenticated from the headers (an API key). */
  function registry(identity: Identity | 'from-headers' = ADMIN_IDENTITY, headers: Record<string, string> = {}): RegistryClient {
    const caller = identity === 'from-headers' ? undefined : identity;
    const transport = createInProcessTransport({ routes: assembly!.routes, interceptors: assembly!.interceptors, caller, clientIp: '127.0.0.1' });
    return createClient(RegistryService, withHeaders(transport, headers));
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-webhooks-'));
    database = await createTestDatabase();
    receiver = await startWebhookReceiver();
    await start();
  });
  afterAll(() =>
    cleanUp({ assembly: () => assembly?.close(), receiver: () => receiver?.close(), database: () => database?.close(), dataDir: () => removeDir(dataDir) }),
  );

  it('delivers every event type signed with the secret shown once, and logs the deliveries', async () => {
    const admin = registry();
    const { projectId } = await admin.createProject({ name: 'Hooks' });
    const { key } = await admin.createApiKey({ projectId, name: 'hooks', scopes: ['registry.read', 'registry.write'] });
    const client = registry('from-headers', { authorization: `Bearer ${key}` });
    const created = await client.createWebhook({ url: receiver.url, events: ['asset.signed', 'verification.completed', 'certificate.revoked', 'api_key.revoked'] });
    const secret = created.secret;
    expect(secret).toMatch(/^whsec_/);
    const stored = await database.db.selectFrom('webhooks').selectAll().where('id', '=', created.webhook!.webhookId).executeTakeFirstOrThrow();
    expect(Buffer.from(stored.encrypted_secret).toString('latin1')).not.toContain(secret.slice(6));
    expect((await client.listWebhooks({})).webhooks.map((w) => w.webhookId)).toEqual([created.webhook!.webhookId]);
    expect(JSON.stringify((await client.listWebhooks({})).webhooks)).not.toContain(secret);

    const { asset } = await registry(serviceIdentity('signing')).registerAsset({ projectId, assetSha256: SHA256_A, signerId: 's', certificateId: 'c', signedAt: new Date().toISOString(), requestId: 'req_sign' });
    await registry(serviceIdentity('verification')).recordVerification({ projectId, assetSha256: SHA256_A, validationState: 'TRUSTED', source: 'BYTES', requestId: 'req_verify' });
    const revoked = await admin.createApiKey({ projectId, name: 'leaked', scopes: ['verify'] });
    await admin.revokeApiKey({ keyId: revoked.keyId, reason: 'leaked in a log' });
    // The CA queues certificate events through the repository function, in its own transaction.
    await enqueueWebhookEvent(database.db, projectId, 'certificate.revoked', { certificate_id: 'crt_1', serial_number: '0a', reason: 1 });

    await eventually(() => expect(receiver.received).toHaveLength(4));
    for (const delivery of receiver.received) {
      expect(signatureValid(delivery, secret)).toBe(true);
      expect(signatureValid(delivery, 'whsec_wrong')).toBe(false);
      const body = JSON.parse(delivery.body);
      expect(body.id).toBe(delivery.headers['x-c2pa-mesh-delivery']);
      expect(body.event).toBe(delivery.headers['x-c2pa-mesh-event']);
      expect(body.project_id).toBe(projectId);
      expect(delivery.headers['content-type']).toBe('application/json');
    }
    const byEvent = new Map(receiver.received.map((d) => [d.headers['x-c2pa-mesh-event'], JSON.parse(d.body).data]));
    expect(byEvent.get('asset.signed')).toMatchObject({ asset_id: asset!.assetId, asset_sha256: SHA256_A, request_id: 'req_sign' });
    expect(byEvent.get('verification.completed')).toMatchObject({ validation_state: 'TRUSTED', request_id: 'req_verify' });
    expect(byEvent.get('api_key.revoked')).toMatchObject({ key_id: revoked.keyId, reason: 'leaked in a log' });
    expect(byEvent.get('certificate.revoked')).toMatchObject({ certificate_id: 'crt_1' });
    expect(JSON.stringify(receiver.received)).not.toContain(revoked.key);

    // The receiver has the requests before the dispatcher records their outcome: wait for the log.
    await eventually(async () => {
      const log = await client.listWebhookDeliveries({ webhookId: created.webhook!.webhookId });
      expect(log.deliveries).toHaveLength(4);
      for (const d of log.deliveries) expect(d).toMatchObject({ status: 'DELIVERED', attempts: 1, lastStatusCode: 200, nextAttemptAt: '' });
    });
  });

  it('retries with backoff after a failing receiver until it answers 2xx', async () => {
    receiver.received.length = 0;
    let failures = 2;
    receiver.state.respond = () => (failures-- > 0 ? 500 : 204);
    const admin = registry();
    const { projectId } = await admin.createProject({ name: 'Flaky receiver' });
    const { webhook, secret } = await admin.createWebhook({ projectId, url: receiver.url, events: ['asset.signed'] });
    await registry(serviceIdentity('signing')).registerAsset({ projectId, assetSha256: SHA256_A, signerId: 's', certificateId: 'c', signedAt: new Date().toISOString() });
    await eventually(() => expect(receiver.received.map((d) => d.answeredWith)).toEqual([500, 500, 204]));
    // The same delivery each time (receivers drop duplicates by its id), freshly signed.
    expect(new Set(receiver.received.map((d) => d.headers['x-c2pa-mesh-delivery'])).size).toBe(1);
    expect(receiver.received.every((d) => signatureValid(d, secret))).toBe(true);
    const [delivery] = (await eventually(async () => {
      const log = (await admin.listWebhookDeliveries({ webhookId: webhook!.webhookId })).deliveries;
      expect(log[0]?.status).toBe('DELIVERED');
      return log;
    }));
    expect(delivery).toMatchObject({ attempts: 3, lastStatusCode: 204, lastError: '' });
  });

  it('loses nothing across a restart: failed and newly queued events are delivered by the next instance', async () => {
    receiver.received.length = 0;
    receiver.state.respond = () => 503;
    const admin = registry();
    const { projectId } = await admin.createProject({ name: 'Restart' });
    const { webhook, secret } = await admin.createWebhook({ projectId, url: receiver.url, events: ['asset.signed', 'certificate.revoked'] });
    await registry(serviceIdentity('signing')).registerAsset({ projectId, assetSha256: SHA256_A, signerId: 's', certificateId: 'c', signedAt: new Date().toISOString() });
    await eventually(async () => {
      const [d] = (await admin.listWebhookDeliveries({ webhookId: webhook!.webhookId })).deliveries;
      expect(d).toMatchObject({ status: 'PENDING', lastStatusCode: 503 });
      expect(d.attempts).toBeGreaterThanOrEqual(1);
      expect(d.lastError).toMatch(/503/);
    });

    await assembly!.close();
    assembly = undefined;
    // While no instance runs: another event is queued, and the receiver recovers.
    await enqueueWebhookEvent(database.db, projectId, 'certificate.revoked', { certificate_id: 'crt_2' });
    receiver.state.respond = () => 200;
    const before = receiver.received.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received.length).toBe(before);

    await start();
    await eventually(() => expect(receiver.received.filter((d) => d.answeredWith === 200).map((d) => d.headers['x-c2pa-mesh-event']).sort()).toEqual(['asset.signed', 'certificate.revoked']));
    expect(receiver.received.every((d) => signatureValid(d, secret))).toBe(true);
    const log = await eventually(async () => {
      const deliveries = (await registry().listWebhookDeliveries({ webhookId: webhook!.webhookId })).deliveries;
      expect(deliveries.map((d) => d.status)).toEqual(['DELIVERED', 'DELIVERED']);
      return deliveries;
    });
    expect(log.find((d) => d.event === 'asset.signed')!.attempts).toBeGreaterThanOrEqual(2);
  });

  it('refuses webhooks to addresses that are not allowed, and drops pending deliveries on delete', async () => {
    const admin = registry();
    const { projectId } = await admin.createProject({ name: 'Guarded' });
    for (const url of ['http://10.0.0.1/hook', 'https://169.254.169.254/', 'http://127.0.0.2:1/hook']) {
      const err = await failure(admin.createWebhook({ projectId, url, events: ['asset.signed'] }));
      expect(err.code).toBe(Code.InvalidArgument);
    }
    expect((await failure(admin.createWebhook({ projectId, url: receiver.url, events: ['asset.deleted'] }))).code).toBe(Code.InvalidArgument);

    // A target that slipped in some other way is still refused at delivery time.
    receiver.received.length = 0;
    await insertWebhook(database.db, { id: 'whk_sneaky', projectId, url: 'http://127.0.0.2:9/hook', events: ['certificate.revoked'], encryptedSecret: new Uint8Array(48) });
    const [sneaky] = await enqueueWebhookEvent(database.db, projectId, 'certificate.revoked', { certificate_id: 'crt_3' });
    await eventually(async () => {
      const row = await database.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', sneaky).executeTakeFirstOrThrow();
      expect(row.attempts).toBeGreaterThanOrEqual(1);
      expect(row.last_error).toMatch(/not a public address/);
    });

    const { webhook } = await admin.createWebhook({ projectId, url: receiver.url, events: ['certificate.revoked'] });
    receiver.state.respond = () => 500;
    await enqueueWebhookEvent(database.db, projectId, 'certificate.revoked', { certificate_id: 'crt_4' });
    await admin.deleteWebhook({ webhookId: webhook!.webhookId });
    expect((await failure(admin.listWebhookDeliveries({ webhookId: webhook!.webhookId }))).code).toBe(Code.NotFound);
    const pending = await database.db.selectFrom('webhook_deliveries').select('id').where('webhook_id', '=', webhook!.webhookId).where('status', '=', 'PENDING').execute();
    expect(pending).toEqual([]);
    expect((await admin.listWebhooks({ projectId })).webhooks.map((w) => w.webhookId)).toEqual(['whk_sneaky']);
  });
});
