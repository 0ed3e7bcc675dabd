import { Code } from '@connectrpc/connect';
import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRegistry, failure, projectWithKey, registryAs, registryWithKey, SHA256_A, SHA256_B, type RegistryClient } from './test-support/registry-test-kit.js';
import { serviceIdentity } from './test-support/service-identities.js';

describe(`tenant isolation on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let mesh: TestMesh;
  let admin: RegistryClient;
  let a: { projectId: string; keyId: string; key: string; client: RegistryClient };
  let b: { projectId: string; keyId: string; key: string; client: RegistryClient };
  let bAssetId: string;
  let bWebhookId: string;
  let bBindingId: string;

  beforeAll(async () => {
    mesh = await createTestMesh({ MESH_WEBHOOK_ALLOW_HOSTS: '127.0.0.1' });
    admin = adminRegistry(mesh);
    const scopes = ['admin'];
    const pa = await projectWithKey(admin, scopes, { name: 'Project A' });
    const pb = await projectWithKey(admin, scopes, { name: 'Project B' });
    a = { ...pa, client: registryWithKey(mesh, pa.key) };
    b = { ...pb, client: registryWithKey(mesh, pb.key) };
    const signing = registryAs(mesh, serviceIdentity('signing'));
    const common = { signerId: 'crt_x', certificateId: 'crt_x', signedAt: new Date().toISOString(), format: 'image/jpeg', sizeBytes: 10n };
    await signing.registerAsset({ ...common, projectId: a.projectId, assetSha256: SHA256_A, title: 'A title' });
    bAssetId = (await signing.registerAsset({ ...common, projectId: b.projectId, assetSha256: SHA256_B, title: 'B secret title', tags: ['b-only'] })).asset!.assetId;
    bWebhookId = (await b.client.createWebhook({ url: 'http://127.0.0.1:9/hook', events: ['asset.signed'] })).webhook!.webhookId;
    bBindingId = (await b.client.createClientBinding({ certificateMatch: { case: 'sanUri', value: 'spiffe://example.org/b-client' }, scopes: ['verify'] })).binding!.bindingId;
    // Some traffic in both projects for the audit log and statistics.
    await a.client.getProject({});
    await b.client.getProject({});
  });
  afterAll(async () => {
    await mesh?.close();
  });

  it("answers not_found for another project's objects, as if they did not exist", async () => {
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['GetProject', () => a.client.getProject({ projectId: b.projectId })],
      ['UpdateProject', () => a.client.updateProject({ projectId: b.projectId, name: 'taken over' })],
      ['GetAsset', () => a.client.getAsset({ assetId: bAssetId })],
      ['UpdateAsset', () => a.client.updateAsset({ assetId: bAssetId, title: 'x' })],
      ['DeleteAsset', () => a.client.deleteAsset({ assetId: bAssetId })],
      ['ListAssets', () => a.client.listAssets({ projectId: b.projectId })],
      ['GetApiKey', () => a.client.getApiKey({ keyId: b.keyId })],
      ['UpdateApiKey', () => a.client.updateApiKey({ keyId: b.keyId, name: 'x' })],
      ['RotateApiKey', () => a.client.rotateApiKey({ keyId: b.keyId })],
      ['RevokeApiKey', () => a.client.revokeApiKey({ keyId: b.keyId })],
      ['ListApiKeys', () => a.client.listApiKeys({ projectId: b.projectId })],
      ['CreateApiKey', () => a.client.createApiKey({ projectId: b.projectId, name: 'x', scopes: ['sign'] })],
      ['ListClientBindings', () => a.client.listClientBindings({ projectId: b.projectId })],
      ['DeleteClientBinding', () => a.client.deleteClientBinding({ bindingId: bBindingId })],
      ['ListWebhooks', () => a.client.listWebhooks({ projectId: b.projectId })],
      ['DeleteWebhook', () => a.client.deleteWebhook({ webhookId: bWebhookId })],
      ['ListWebhookDeliveries', () => a.client.listWebhookDeliveries({ webhookId: bWebhookId })],
      ['ListAuditEvents', () => a.client.listAuditEvents({ projectId: b.projectId })],
      ['GetUsageStats', () => a.client.getUsageStats({ projectId: b.projectId })],
    ];
    for (const [name, call] of calls) {
      const err = await failure(call());
      expect({ name, code: err.code }).toEqual({ name, code: Code.NotFound });
      expect(err.rawMessage).not.toMatch(/another project|forbidden|not allowed/i);
    }
    // B's things are untouched.
    const asset = (await b.client.getAsset({ assetId: bAssetId })).asset!;
    expect(asset).toMatchObject({ title: 'B secret title', status: 'ACTIVE' });
    expect((await b.client.getApiKey({ keyId: b.keyId })).apiKey?.status).toBe('ACTIVE');
  });

  it("lists only the caller's own project, assets, audit events and statistics", async () => {
    expect((await a.client.listProjects({})).projects.map((p) => p.projectId)).toEqual([a.projectId]);
    const assets = (await a.client.listAssets({})).assets;
    expect(assets.map((x) => x.assetSha256)).toEqual([SHA256_A]);

    const events = (await a.client.listAuditEvents({ pageSize: 500 })).events;
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.projectId))).toEqual(new Set([a.projectId]));

    const stats = await a.client.getUsageStats({});
    expect(stats.projects.map((p) => p.projectId)).toEqual([a.projectId]);
    const everything = await admin.getUsageStats({});
    expect(everything.projects.map((p) => p.projectId).sort()).toEqual([a.projectId, b.projectId].sort());
    expect(everything.todayRequests).toBeGreaterThan(stats.todayRequests);
    // The mesh-wide administrator sees every project's events.
    const all = (await admin.listAuditEvents({ pageSize: 500 })).events;
    expect(new Set(all.map((e) => e.projectId))).toContain(b.projectId);
  });

  it("finds another project's asset by hash with its provenance only, not the owner's descriptions", async () => {
    const found = await a.client.lookupAssetByHash({ contentHash: SHA256_B.toUpperCase().replace('SHA256', 'sha256') });
    expect(found.found).toBe(true);
    expect(found.asset).toMatchObject({ assetId: bAssetId, assetSha256: SHA256_B, signerId: 'crt_x', projectId: '', title: '', tags: [], requestId: '' });
    const own = await b.client.lookupAssetByHash({ contentHash: SHA256_B });
    expect(own.asset).toMatchObject({ projectId: b.projectId, title: 'B secret title', tags: ['b-only'] });
  });

  it('keeps identities tied to a project from creating projects', async () => {
    const err = await failure(a.client.createProject({ name: 'Project C' }));
    expect(err.code).toBe(Code.PermissionDenied);
    expect((await admin.listProjects({})).projects.map((p) => p.name)).not.toContain('Project C');
  });
});
