import { Code, createClient } from '@connectrpc/connect';
import { createIdentityResolver } from '@c2pa-mesh/auth';
import { createInProcessTransport } from '@c2pa-mesh/clients';
import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { RegistryService } from '@c2pa-mesh/proto';
import { createMeshInterceptor } from '@c2pa-mesh/server';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditSink } from './audit-sink.js';
import { createRateLimitAdmission, retryAfterSeconds } from './call-admission.js';
import { adminRegistry, failure, projectWithKey, withHeaders, type RegistryClient } from './test-support/registry-test-kit.js';

describe('retry-after from the sliding window', () => {
  it('waits for the next window when this one is full', () => {
    // 3 of 3 used, 20 s into the window, nothing before: in 40 s this window's 3 start sliding out.
    expect(retryAfterSeconds(3, 3, 0, 20)).toBe(40 + 20);
    expect(retryAfterSeconds(600, 600, 0, 59.5)).toBeGreaterThanOrEqual(1);
  });
  it('waits only for enough of the previous window to slide out when this one has room', () => {
    // 10 per minute, 2 now, 20 before, 10 s in: one more fits once 20·(1 - t/60) ≤ 7, at t = 39 s.
    expect(retryAfterSeconds(10, 2, 20, 10)).toBe(29);
    // 5 now, 12 before, 6 s in: 12·(1 - t/60) ≤ 4 at t = 40 s.
    expect(retryAfterSeconds(10, 5, 12, 6)).toBe(34);
  });
});

describe(`rate limits on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let mesh: TestMesh;
  let admin: RegistryClient;
  beforeAll(async () => {
    mesh = await createTestMesh();
    admin = adminRegistry(mesh);
  });
  afterAll(async () => {
    await mesh?.close();
  });

  /** A second mesh instance on the same database: its own interceptors, the shared counters. */
  function secondInstance(headers: Record<string, string>, clientIp = '127.0.0.1') {
    const logger = pino({ level: 'silent' });
    const interceptors = [
      createMeshInterceptor({ resolver: createIdentityResolver(mesh.db), audit: createAuditSink(mesh.db), logger, admission: createRateLimitAdmission(mesh.db) }),
    ];
    return createClient(RegistryService, withHeaders(createInProcessTransport({ routes: mesh.routes, interceptors, clientIp }), headers));
  }

  it("refuses calls over a key's requests per minute with resource_exhausted and retry-after, across instances", async () => {
    const { key, keyId, projectId } = await projectWithKey(admin, ['registry.read'], { requestsPerMinute: 4 });
    const one = createClient(RegistryService, withHeaders(mesh.transport(), { authorization: `Bearer ${key}` }));
    const two = secondInstance({ authorization: `Bearer ${key}` });
    await one.getProject({});
    await two.getProject({});
    await one.getProject({});
    await two.getProject({});
    const refused = await failure(one.getProject({}));
    expect(refused.code).toBe(Code.ResourceExhausted);
    expect(refused.rawMessage).toMatch(/4 requests per minute/);
    const retryAfter = Number(refused.metadata.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(120);
    expect((await failure(two.getProject({}))).code).toBe(Code.ResourceExhausted);

    // Refused calls are audited but not counted: the window holds exactly the four admitted calls.
    const window = await mesh.db.selectFrom('rate_limits').select(['count']).where('bucket', '=', `key:${keyId}`).execute();
    expect(window.reduce((sum, r) => sum + r.count, 0)).toBeLessThanOrEqual(4);
    const events = (await admin.listAuditEvents({ projectId, operation: 'GetProject', status: 'ERROR' })).events;
    expect(events.map((e) => e.code)).toEqual(['resource_exhausted', 'resource_exhausted']);

    // Another key is not affected, and the mesh's own identities are not limited.
    const other = await projectWithKey(admin, ['registry.read'], { requestsPerMinute: 4 });
    await createClient(RegistryService, withHeaders(mesh.transport(), { authorization: `Bearer ${other.key}` })).getProject({});
    for (let i = 0; i < 6; i++) await admin.getProject({ projectId });
  });

  it('limits calls without a valid credential per client IP', async () => {
    const guesser = secondInstance({ authorization: 'Bearer c2m_guessed' }, '203.0.113.9');
    for (let i = 0; i < 30; i++) expect((await failure(guesser.getProject({}))).code).toBe(Code.Unauthenticated);
    const refused = await failure(guesser.getProject({}));
    expect(refused.code).toBe(Code.ResourceExhausted);
    expect(Number(refused.metadata.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another address is still only told it has no valid credential.
    expect((await failure(secondInstance({}, '203.0.113.10').getProject({}))).code).toBe(Code.Unauthenticated);
  });
});
