import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { createIdentityResolver } from '@c2pa-mesh/auth';
import { createTestMesh, startTestListener, type TestMesh } from '@c2pa-mesh/mesh/testing';
import type { RunningListener } from '@c2pa-mesh/server';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, removeDir } from '../../../test/support/cleanup.js';
import { createConsoleHandler } from './handler.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * The console's HTTP side over real TLS: who may open a session, what the cookie and the CSRF
 * token guard, what an RPC made with the session may do, the static files and their headers.
 */
describe('console sessions and files', () => {
  let mesh: TestMesh;
  let listener: RunningListener;
  let dist: string;
  let tls: { ca: string; cert: string; key: string };
  let serviceTls: { cert: string; key: string };

  function request(method: string, urlPath: string, options: { headers?: Record<string, string>; body?: string; client?: { cert: string; key: string } } = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = https.request(`${listener.url}${urlPath}`, { method, ca: tls.ca, ...options.client, headers: options.headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end(options.body);
    });
  }
  const admin = () => ({ cert: tls.cert, key: tls.key });
  const origin = () => listener.url;
  const signIn = (client: { cert: string; key: string } | null = admin(), headers: Record<string, string> = { origin: origin(), 'content-type': 'application/json' }) =>
    request('POST', '/console/api/session', { client: client ?? undefined, headers, body: '{"method":"client-certificate"}' });
  const rpc = (cookie: string, csrf: string | undefined) =>
    request('POST', '/c2pamesh.registry.v1.RegistryService/ListProjects', {
      headers: { cookie, 'content-type': 'application/json', ...(csrf ? { 'x-csrf-token': csrf } : {}) },
      body: '{}',
    });

  beforeAll(async () => {
    mesh = await createTestMesh();
    dist = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-console-dist-'));
    await mkdir(path.join(dist, 'assets'));
    await writeFile(path.join(dist, 'index.html'), '<!doctype html><title>console</title>');
    await writeFile(path.join(dist, 'assets', 'app-abc123.js'), 'export {};');
    const handler = createConsoleHandler({ db: mesh.db, resolver: createIdentityResolver(mesh.db), distDir: dist, logger: pino({ level: 'silent' }) });
    const started = await startTestListener(mesh, { fallback: (req, res) => (handler.handles(req) ? handler.handle(req, res) : res.writeHead(404).end()) });
    listener = started.listener;
    tls = started.adminTls;
    serviceTls = { cert: mesh.pki.services.signing.pem, key: await readFile(mesh.pki.services.signing.privateKeyPath, 'utf8') };
  });
  afterAll(() => cleanUp({ listener: () => listener?.close(0), mesh: () => mesh?.close(), dist: () => removeDir(dist) }));

  it('opens a session for the admin certificate only, with a strict cookie, and refuses sign-in from another site', async () => {
    // No client certificate at all.
    expect((await signIn(null)).status).toBe(401);
    const service = await signIn(serviceTls);
    expect(service.status).toBe(403);
    expect(JSON.parse(service.body).error).toContain('only the admin');
    expect((await signIn(admin(), { origin: 'https://evil.example', 'content-type': 'application/json' })).status).toBe(403);
    expect((await signIn(admin(), { 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' })).status).toBe(403);

    const ok = await signIn();
    expect(ok.status).toBe(200);
    const cookie = String(ok.headers['set-cookie']);
    expect(cookie).toMatch(/^__Host-mesh-console=cs_[A-Za-z0-9_-]+; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    // Only the hash of the secret is stored.
    const secret = /=(cs_[^;]+)/.exec(cookie)![1];
    const rows = await mesh.db.selectFrom('console_sessions').selectAll().execute();
    expect(rows.some((r) => r.id_hash === secret)).toBe(false);
    expect(rows.some((r) => r.subject === 'spiffe://c2pa-mesh/admin' && r.expires_at.getTime() > Date.now())).toBe(true);
  });

  it('lets RPCs through with the session and its CSRF token only; signing out ends the session', async () => {
    const opened = await signIn();
    const session = `__Host-mesh-console=${/=(cs_[^;]+)/.exec(String(opened.headers['set-cookie']))![1]}`;
    const { csrfToken } = JSON.parse(opened.body);

    const withoutToken = await rpc(session, undefined);
    expect(withoutToken.status).toBe(403);
    expect(JSON.parse(withoutToken.body).code).toBe('permission_denied');
    expect((await rpc(session, 'x'.repeat(43))).status).toBe(403);
    expect((await rpc(session, csrfToken)).status).toBe(200);
    // The session endpoint gives the page the same token again (after a reload).
    const again = await request('GET', '/console/api/session', { headers: { cookie: session } });
    expect(JSON.parse(again.body)).toMatchObject({ csrfToken, subject: 'spiffe://c2pa-mesh/admin', method: 'ADMIN_CERTIFICATE' });
    // An unknown session is unauthenticated, even with a token.
    expect(JSON.parse((await rpc('__Host-mesh-console=cs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', csrfToken)).body).code).toBe('unauthenticated');

    // The change marker of live pages: only for a session; 304 until something other than a read happens.
    expect((await request('GET', '/console/api/changes')).status).toBe(401);
    const marked = await request('GET', '/console/api/changes', { headers: { cookie: session } });
    expect(marked.status).toBe(200);
    const etag = String(marked.headers.etag);
    expect((await request('GET', '/console/api/changes', { headers: { cookie: session, 'if-none-match': etag } })).status).toBe(304);
    expect((await rpc(session, csrfToken)).status).toBe(200);
    expect((await request('GET', '/console/api/changes', { headers: { cookie: session, 'if-none-match': etag } })).status).toBe(304);
    const created = await request('POST', '/c2pamesh.registry.v1.RegistryService/CreateProject', {
      headers: { cookie: session, 'x-csrf-token': csrfToken, 'content-type': 'application/json' },
      body: '{"name":"changed"}',
    });
    expect(created.status).toBe(200);
    const changed = await request('GET', '/console/api/changes', { headers: { cookie: session, 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);

    expect((await request('DELETE', '/console/api/session', { headers: { cookie: session } })).status).toBe(403);
    const out = await request('DELETE', '/console/api/session', { headers: { cookie: session, 'x-csrf-token': csrfToken } });
    expect(out.status).toBe(200);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect(JSON.parse((await rpc(session, csrfToken)).body).code).toBe('unauthenticated');
    expect((await request('GET', '/console/api/session', { headers: { cookie: session } })).status).toBe(401);
  });

  it('serves the built files with a strict Content-Security-Policy and nothing outside the build', async () => {
    const page = await request('GET', '/console/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>console</title>');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    expect(page.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer', 'cache-control': 'no-cache' });
    const asset = await request('GET', '/console/assets/app-abc123.js');
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await request('GET', '/console')).status).toBe(308);
    for (const bad of ['/console/../package.json', '/console/%2e%2e/package.json', '/console/assets/..%2f..%2findex.html', '/console/.hidden', '/console/nope.js']) {
      expect((await request('GET', bad)).status, bad).toBe(404);
    }
    expect((await request('POST', '/console/')).status).toBe(405);
  });
});
