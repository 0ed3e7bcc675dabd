import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { insertAuditEvent, insertProject, type NewAuditEvent } from '@c2pa-mesh/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRegistry, type RegistryClient } from './test-support/registry-test-kit.js';

const DAY_MS = 86_400_000;

function event(projectId: string, daysAgo: number, operation: string, ok: boolean, durationMs: number, format = ''): NewAuditEvent {
  return {
    occurred_at: new Date(Date.now() - daysAgo * DAY_MS),
    service: operation.startsWith('Sign') ? 'c2pamesh.signing.v1.SigningService' : 'c2pamesh.verification.v1.VerificationService',
    operation,
    status: ok ? 'ok' : 'error',
    code: ok ? 'ok' : 'invalid_argument',
    project_id: projectId,
    identity: 'key_x',
    identity_kind: 'API_KEY',
    format,
    size_bytes: 0,
    duration_ms: durationMs,
    client_ip: '192.0.2.1',
    error: ok ? '' : `${operation} failed`,
    request_id: `req_${operation}_${daysAgo}`,
  };
}

describe(`usage statistics on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let mesh: TestMesh;
  let admin: RegistryClient;
  beforeAll(async () => {
    mesh = await createTestMesh();
    admin = adminRegistry(mesh);
    // Written straight into the tables, so that no call of this test is counted before it asks.
    await insertProject(mesh.db, { id: 'prj_newsroom', name: 'Newsroom', description: '', defaultSignerId: null });
    await insertProject(mesh.db, { id: 'prj_studio', name: 'Studio', description: '', defaultSignerId: null });
    const events = [
      event('prj_newsroom', 40, 'Sign', true, 999, 'image/jpeg'), // outside the 30 days
      event('prj_newsroom', 20, 'VerifyUrl', false, 60, 'video/mp4'),
      event('prj_newsroom', 3, 'Sign', true, 20, 'image/jpeg'),
      event('prj_newsroom', 3, 'SignHash', true, 40),
      event('prj_newsroom', 0, 'GetAsset', true, 30),
      event('prj_newsroom', 0, 'Verify', false, 50, 'image/png'),
      event('prj_newsroom', 0, 'Sign', true, 100, 'image/jpeg'),
      event('prj_studio', 0, 'Verify', true, 10, 'image/png'),
    ];
    for (const e of events) await insertAuditEvent(mesh.db, e);
  });
  afterAll(async () => {
    await mesh?.close();
  });

  it("sums one project's calls into the dashboard figures", async () => {
    const stats = await admin.getUsageStats({ projectId: 'prj_newsroom' });
    expect(stats.todayRequests).toBe(3n);
    expect(stats.weekRequests).toBe(5n);
    expect(stats.successRate).toBeCloseTo(4 / 6, 10);
    expect(stats.averageDurationMs).toBeCloseTo(50, 10);
    expect(stats.projects).toHaveLength(1);
    expect(stats.projects[0]).toMatchObject({ projectId: 'prj_newsroom', projectName: 'Newsroom', requests: 6n, successes: 4n, errors: 2n, signs: 3n, verifies: 2n });
    expect(stats.projects[0].averageMs).toBeCloseTo(50, 10);
    expect(Date.now() - Date.parse(stats.projects[0].lastUsedAt)).toBeLessThan(60_000);

    expect(stats.daily).toHaveLength(30);
    const today = new Date().toISOString().slice(0, 10);
    expect(stats.daily[29]).toMatchObject({ date: today, requests: 3n, successes: 2n, errors: 1n });
    // Latency over time: today's calls took 30, 50 and 100 ms; three days ago 20 and 40 ms.
    expect(stats.daily[29].averageMs).toBeCloseTo(60, 10);
    expect(stats.daily[29].p50Ms).toBeCloseTo(50, 10);
    expect(stats.daily[26].averageMs).toBeCloseTo(30, 10);
    expect(stats.daily[26].p50Ms).toBeCloseTo(30, 10);
    expect(stats.daily[0]).toMatchObject({ averageMs: 0, p50Ms: 0 });
    const byDate = new Map(stats.daily.map((d) => [d.date, d.requests]));
    expect(byDate.get(new Date(Date.now() - 3 * DAY_MS).toISOString().slice(0, 10))).toBe(2n);
    expect(byDate.get(new Date(Date.now() - 20 * DAY_MS).toISOString().slice(0, 10))).toBe(1n);
    expect(stats.daily.reduce((sum, d) => sum + d.requests, 0n)).toBe(6n);
    expect(stats.daily.map((d) => d.date)).toEqual([...stats.daily.map((d) => d.date)].sort());

    expect(stats.byFormat.map((f) => [f.format, f.count])).toEqual([
      ['image/jpeg', 2n],
      ['image/png', 1n],
      ['video/mp4', 1n],
    ]);
    expect(stats.recentErrors.map((e) => e.operation)).toEqual(['Verify', 'VerifyUrl']);
    expect(stats.recentErrors[0]).toMatchObject({ status: 'ERROR', code: 'invalid_argument', error: 'Verify failed' });
  });

  it('sums every project for the mesh-wide administrator, most requests first', async () => {
    const stats = await admin.getUsageStats({});
    expect(stats.projects.map((p) => p.projectId)).toEqual(['prj_newsroom', 'prj_studio']);
    // Every call in the mesh, the administrator's own (tied to no project) included.
    expect(stats.todayRequests).toBeGreaterThanOrEqual(4n + 1n);
    expect(stats.byFormat.find((f) => f.format === 'image/png')?.count).toBe(2n);
  });

  it('answers zeros for a project without calls', async () => {
    await insertProject(mesh.db, { id: 'prj_quiet', name: 'Quiet', description: '', defaultSignerId: null });
    const stats = await admin.getUsageStats({ projectId: 'prj_quiet' });
    expect(stats).toMatchObject({ todayRequests: 0n, weekRequests: 0n, successRate: 0, averageDurationMs: 0, projects: [], byFormat: [], recentErrors: [] });
    expect(stats.daily.every((d) => d.requests === 0n)).toBe(true);
  });
});
