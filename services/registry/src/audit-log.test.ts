import { Code, ConnectError } from '@connectrpc/connect';
import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRegistry, projectWithKey, registryWithKey, type RegistryClient } from './test-support/registry-test-kit.js';

describe(`audit log on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let mesh: TestMesh;
  let admin: RegistryClient;
  let project: { projectId: string; keyId: string; key: string };
  /** Request id → the code the caller saw, for every call the key made. */
  const seen = new Map<string, string>();

  beforeAll(async () => {
    mesh = await createTestMesh();
    admin = adminRegistry(mesh);
    project = await projectWithKey(admin, ['registry.read', 'registry.write']);
    const client = registryWithKey(mesh, project.key);
    const calls: Array<(options: { onHeader: (h: Headers) => void }) => Promise<unknown>> = [
      (o) => client.getProject({}, o), // ok
      (o) => client.getAsset({ assetId: '' }, o), // invalid_argument
      (o) => client.getAsset({ assetId: 'ast_missing' }, o), // not_found
      (o) => client.createProject({ name: 'nope' }, o), // permission_denied
      (o) => client.listAssets({}, o), // ok
      (o) => client.listAuditEvents({ since: 'yesterday' }, o), // invalid_argument
      (o) => client.updateAsset({ assetId: 'ast_missing', title: 't' }, o), // not_found
      (o) => client.getUsageStats({}, o), // ok
      (o) => client.listWebhooks({}, o), // ok
      (o) => client.createWebhook({ url: 'ftp://example.com', events: ['asset.signed'] }, o), // invalid_argument
      (o) => client.listApiKeys({}, o), // permission_denied
      (o) => client.lookupAssetByHash({ contentHash: `sha256:${'0'.repeat(64)}` }, o), // ok
    ];
    for (const call of calls) {
      let requestId = '';
      try {
        await call({ onHeader: (h) => (requestId = h.get('x-request-id') ?? '') });
        seen.set(requestId, 'ok');
      } catch (err) {
        const error = ConnectError.from(err);
        requestId = error.metadata.get('x-request-id') ?? '';
        seen.set(requestId, Code[error.code]);
      }
      expect(requestId).toMatch(/^req_/);
    }
  });
  afterAll(async () => {
    await mesh?.close();
  });

  it('writes exactly one event per call, failed and refused calls included, with the request ids callers saw', async () => {
    expect(seen.size).toBe(12);
    const events = (await admin.listAuditEvents({ projectId: project.projectId, pageSize: 500 })).events.filter((e) => e.identity === project.keyId);
    expect(events).toHaveLength(12);
    expect(new Set(events.map((e) => e.requestId))).toEqual(new Set(seen.keys()));
    const toCodeName = (code: string) => (code === 'ok' ? 'ok' : code.replace(/[A-Z]/g, (c, i) => (i === 0 ? c.toLowerCase() : `_${c.toLowerCase()}`)));
    for (const event of events) {
      expect(event.code).toBe(toCodeName(seen.get(event.requestId)!));
      expect(event.status).toBe(event.code === 'ok' ? 'SUCCESS' : 'ERROR');
      expect(event).toMatchObject({ projectId: project.projectId, identityKind: 'API_KEY', clientIp: '127.0.0.1', service: 'c2pamesh.registry.v1.RegistryService' });
      if (event.code !== 'ok') expect(event.error).not.toBe('');
    }
    const codes = events.map((e) => e.code).sort();
    expect(codes.filter((c) => c === 'ok')).toHaveLength(5);
    expect(codes.filter((c) => c === 'permission_denied')).toHaveLength(2);
  });

  it('never stores secrets', async () => {
    const rows = await mesh.db.selectFrom('audit_events').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(project.key);
  });

  it('keeps a request id the caller chose', async () => {
    const client = registryWithKey(mesh, project.key, { 'x-request-id': 'cms-job-4711-upload' });
    await client.getProject({});
    const events = (await admin.listAuditEvents({ projectId: project.projectId, operation: 'GetProject' })).events;
    expect(events[0].requestId).toBe('cms-job-4711-upload');
  });

  it('filters by operation, status and time, and pages newest first without gaps or repeats', async () => {
    const errors = (await admin.listAuditEvents({ projectId: project.projectId, status: 'ERROR', pageSize: 500 })).events;
    expect(errors.length).toBeGreaterThanOrEqual(7);
    expect(errors.every((e) => e.status === 'ERROR')).toBe(true);
    const gets = (await admin.listAuditEvents({ projectId: project.projectId, operation: 'GetAsset' })).events;
    expect(gets.map((e) => e.code).sort()).toEqual(['invalid_argument', 'not_found']);
    const future = (await admin.listAuditEvents({ projectId: project.projectId, since: new Date(Date.now() + 60_000).toISOString() })).events;
    expect(future).toEqual([]);
    const past = (await admin.listAuditEvents({ projectId: project.projectId, until: '2000-01-01T00:00:00Z' })).events;
    expect(past).toEqual([]);

    // Listing is itself audited (under this project): look only at what happened before now.
    const until = new Date().toISOString();
    const all = (await admin.listAuditEvents({ projectId: project.projectId, pageSize: 500, until })).events;
    expect(all.length).toBeGreaterThan(12);
    const paged: string[] = [];
    let pageToken = '';
    do {
      const page = await admin.listAuditEvents({ projectId: project.projectId, pageSize: 4, pageToken, until });
      expect(page.events.length).toBeLessThanOrEqual(4);
      paged.push(...page.events.map((e) => e.eventId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(paged).toEqual(all.map((e) => e.eventId));
    const times = all.map((e) => Date.parse(e.occurredAt));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
  });
});
