import { Code } from '@connectrpc/connect';
import { API_KEY_PREFIX, hashApiKey } from '@c2pa-mesh/auth';
import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRegistry, failure, registryWithKey, type RegistryClient } from './test-support/registry-test-kit.js';

const HOUR_MS = 3_600_000;

describe(`API key lifecycle on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let mesh: TestMesh;
  let admin: RegistryClient;
  let projectId: string;
  beforeAll(async () => {
    mesh = await createTestMesh();
    admin = adminRegistry(mesh);
    ({ projectId } = await admin.createProject({ name: 'Newsroom', description: 'the CMS' }));
  });
  afterAll(async () => {
    await mesh?.close();
  });

  it('creates a key whose secret is shown once and stored only as a SHA-256', async () => {
    const created = await admin.createApiKey({ projectId, name: 'CMS production', scopes: ['registry.read', 'sign'] });
    expect(created.key.startsWith(API_KEY_PREFIX)).toBe(true);
    expect(created.key.length).toBeGreaterThan(40);
    expect(created.apiKey?.prefix).toBe(created.key.slice(0, API_KEY_PREFIX.length + 8));
    expect(created.apiKey?.status).toBe('ACTIVE');
    expect(created.apiKey?.maxAssetBytes).toBe(100n * 1024n * 1024n);
    expect(created.apiKey?.scopes).toEqual(['sign', 'registry.read']);

    const row = await mesh.db.selectFrom('api_keys').selectAll().where('id', '=', created.keyId).executeTakeFirstOrThrow();
    expect(row.secret_hash).toBe(hashApiKey(created.key));
    expect(JSON.stringify(row)).not.toContain(created.key.slice(API_KEY_PREFIX.length));

    // Used end to end: the key from the Authorization header, resolved against the database.
    const client = registryWithKey(mesh, created.key);
    const { project } = await client.getProject({});
    expect(project?.projectId).toBe(projectId);

    const listed = await admin.listApiKeys({ projectId });
    const json = JSON.stringify(listed, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    expect(json).not.toContain(created.key);
    const listedKey = listed.apiKeys.find((k) => k.keyId === created.keyId);
    expect(listedKey?.requestCount).toBe(1n);
    expect(listedKey?.successCount).toBe(1n);
    expect(listedKey?.lastUsedAt).not.toBe('');
  });

  it('refuses a key without the scope, a malformed or unknown key, and a key from another origin', async () => {
    const created = await admin.createApiKey({ projectId, name: 'browser', scopes: ['registry.read'], allowedOrigins: ['https://app.example.com'] });
    const denied = await failure(registryWithKey(mesh, created.key).createWebhook({ url: 'https://example.com/hook', events: ['asset.signed'] }));
    expect(denied.code).toBe(Code.PermissionDenied);
    expect((await admin.getApiKey({ keyId: created.keyId })).apiKey).toMatchObject({ requestCount: 1n, successCount: 0n, errorCount: 1n });
    expect((await failure(registryWithKey(mesh, `${created.key}x`).getProject({}))).code).toBe(Code.Unauthenticated);
    expect((await failure(registryWithKey(mesh, 'not-a-key').getProject({}))).code).toBe(Code.Unauthenticated);

    const fromApp = registryWithKey(mesh, created.key, { origin: 'https://app.example.com' });
    expect((await fromApp.getProject({})).project?.projectId).toBe(projectId);
    const fromElsewhere = registryWithKey(mesh, created.key, { origin: 'https://evil.example.net' });
    expect((await failure(fromElsewhere.getProject({}))).code).toBe(Code.PermissionDenied);
  });

  it('validates what a key may be given', async () => {
    const bad = [
      { projectId, name: '', scopes: ['sign'] },
      { projectId, name: 'x', scopes: [] },
      { projectId, name: 'x', scopes: ['mesh.internal'] },
      { projectId, name: 'x', scopes: ['sign'], maxAssetBytes: 201n * 1024n * 1024n },
      { projectId, name: 'x', scopes: ['sign'], expiresAt: '2001-01-01T00:00:00Z' },
      { projectId, name: 'x', scopes: ['sign'], expiresAt: 'tomorrow' },
      { projectId, name: 'x', scopes: ['sign'], allowedOrigins: ['https://app.example.com/path'] },
    ];
    for (const request of bad) expect((await failure(admin.createApiKey(request))).code).toBe(Code.InvalidArgument);
    expect((await failure(admin.createApiKey({ projectId: 'prj_missing', name: 'x', scopes: ['sign'] }))).code).toBe(Code.NotFound);
    const ceiling = await admin.createApiKey({ projectId, name: 'big', scopes: ['sign'], maxAssetBytes: 200n * 1024n * 1024n, requestsPerMinute: 5 });
    expect(ceiling.apiKey?.maxAssetBytes).toBe(200n * 1024n * 1024n);
    expect(ceiling.apiKey?.requestsPerMinute).toBe(5);
  });

  it('rotates with a grace period: both keys work until it ends, then the old one stops by itself', async () => {
    const original = await admin.createApiKey({ projectId, name: 'rotating', scopes: ['registry.read'] });
    const before = Date.now();
    const rotated = await admin.rotateApiKey({ keyId: original.keyId });
    expect(rotated.key).not.toBe(original.key);
    expect(rotated.apiKey?.name).toBe('rotating');
    expect(rotated.apiKey?.scopes).toEqual(['registry.read']);
    const graceEnds = Date.parse(rotated.oldKeyExpiresAt);
    expect(graceEnds - before).toBeGreaterThanOrEqual(48 * HOUR_MS - 1000);
    expect(graceEnds - before).toBeLessThan(48 * HOUR_MS + 60_000);

    const old = (await admin.getApiKey({ keyId: original.keyId })).apiKey!;
    expect(old.status).toBe('ROTATING');
    expect(old.replacedByKeyId).toBe(rotated.keyId);
    await registryWithKey(mesh, original.key).getProject({});
    await registryWithKey(mesh, rotated.key).getProject({});
    // A rotated key cannot be rotated again: its replacement is the one to rotate.
    expect((await failure(admin.rotateApiKey({ keyId: original.keyId }))).code).toBe(Code.FailedPrecondition);

    // The grace period passes (moved into the past here rather than waited for).
    await mesh.db.updateTable('api_keys').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', original.keyId).execute();
    const expired = await failure(registryWithKey(mesh, original.key).getProject({}));
    expect(expired.code).toBe(Code.Unauthenticated);
    expect(expired.rawMessage).toMatch(/grace period/);
    await registryWithKey(mesh, rotated.key).getProject({});
    expect((await admin.getApiKey({ keyId: original.keyId })).apiKey?.status).toBe('EXPIRED');
    expect((await admin.listApiKeys({ projectId })).apiKeys.map((k) => k.keyId)).not.toContain(original.keyId);
    expect((await admin.listApiKeys({ projectId, includeRevoked: true })).apiKeys.map((k) => k.keyId)).toContain(original.keyId);

    expect((await failure(admin.rotateApiKey({ keyId: rotated.keyId, gracePeriodHours: 721 }))).code).toBe(Code.InvalidArgument);
    const short = await admin.rotateApiKey({ keyId: rotated.keyId, gracePeriodHours: 1 });
    expect(Date.parse(short.oldKeyExpiresAt) - Date.now()).toBeLessThanOrEqual(HOUR_MS);
  });

  it('expires a key at its expiry and refuses to change it afterwards', async () => {
    const created = await admin.createApiKey({ projectId, name: 'short-lived', scopes: ['registry.read'], expiresAt: new Date(Date.now() + HOUR_MS).toISOString() });
    await registryWithKey(mesh, created.key).getProject({});
    await mesh.db.updateTable('api_keys').set({ expires_at: new Date(Date.now() - 1) }).where('id', '=', created.keyId).execute();
    const err = await failure(registryWithKey(mesh, created.key).getProject({}));
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toMatch(/expired/);
    expect((await failure(admin.updateApiKey({ keyId: created.keyId, name: 'again' }))).code).toBe(Code.FailedPrecondition);
  });

  it('updates settings, and revocation is effective on the very next call', async () => {
    const created = await admin.createApiKey({ projectId, name: 'to revoke', scopes: ['registry.read'] });
    const client = registryWithKey(mesh, created.key);
    const updated = await admin.updateApiKey({
      keyId: created.keyId,
      name: 'renamed',
      scopes: ['registry.read', 'registry.write'],
      requestsPerMinute: 42,
      allowedOrigins: ['https://app.example.com'],
    });
    expect(updated.apiKey).toMatchObject({ name: 'renamed', scopes: ['registry.read', 'registry.write'], requestsPerMinute: 42, allowedOrigins: ['https://app.example.com'] });
    const cleared = await admin.updateApiKey({ keyId: created.keyId, clearAllowedOrigins: true, clearExpiry: true });
    expect(cleared.apiKey?.allowedOrigins).toEqual([]);
    expect((await failure(admin.updateApiKey({ keyId: created.keyId, clearExpiry: true, expiresAt: new Date(Date.now() + HOUR_MS).toISOString() }))).code).toBe(Code.InvalidArgument);

    await client.getProject({});
    const revoked = await admin.revokeApiKey({ keyId: created.keyId, reason: 'compromised' });
    expect(revoked.apiKey).toMatchObject({ status: 'REVOKED', revokeReason: 'compromised' });
    expect(revoked.apiKey?.revokedAt).not.toBe('');
    const err = await failure(client.getProject({}));
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toMatch(/revoked/);
    // Idempotent: revoking again answers with the key as it is.
    expect((await admin.revokeApiKey({ keyId: created.keyId, reason: 'again' })).apiKey?.revokeReason).toBe('compromised');
    expect((await failure(admin.rotateApiKey({ keyId: created.keyId }))).code).toBe(Code.FailedPrecondition);
    // Calls refused at authentication never reach the key's counters: only the one call made.
    const listed = (await admin.listApiKeys({ projectId, includeRevoked: true })).apiKeys.find((k) => k.keyId === created.keyId);
    expect(listed).toMatchObject({ requestCount: 1n, successCount: 1n, errorCount: 0n });
  });

  it('pages through keys newest first', async () => {
    const { projectId: other } = await admin.createProject({ name: 'Paging' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await admin.createApiKey({ projectId: other, name: `k${i}`, scopes: ['verify'] })).keyId);
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await admin.listApiKeys({ projectId: other, pageSize: 2, pageToken });
      expect(page.apiKeys.length).toBeLessThanOrEqual(2);
      seen.push(...page.apiKeys.map((k) => k.keyId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual([...ids].reverse());
    expect((await failure(admin.listApiKeys({ projectId: other, pageToken: 'garbage' }))).code).toBe(Code.InvalidArgument);
  });
});
