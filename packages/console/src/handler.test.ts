import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { createIdentityResolver } from '@c2pa-mesh/auth';
import { createCallerClientsFactory } from '@c2pa-mesh/clients';
import { createTestMesh, startTestListener, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { addOrganizationProject, insertOrganization, insertProject, upsertOrganizationMember } from '@c2pa-mesh/storage';
import type { RunningListener } from '@c2pa-mesh/server';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, removeDir } from '../../../test/support/cleanup.js';
import { createConsoleHandler } from './handler.js';
import { createPasswordLogin } from './password-login.js';

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
    const callers = createCallerClientsFactory({ localServices: mesh.config.services, routes: mesh.routes, interceptors: mesh.interceptors, remote: { urls: {}, caPem: mesh.pki.meshCa.pem } });
    const handler = createConsoleHandler({
      db: mesh.db,
      resolver: createIdentityResolver(mesh.db),
      distDir: dist,
      logger: pino({ level: 'silent' }),
      passwordLogin: createPasswordLogin((peer) => callers(peer).account),
    });
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

  it('signs people in with their password; they act on their organization\'s projects with their role, and their live marker is their project\'s alone', async () => {
    const password = 'correct horse battery staple';
    // Registered and verified as anyone does, the code read from the outbox (no SMTP server here).
    const account = (method: string, body: unknown) =>
      request('POST', `/c2pamesh.account.v1.AccountService/${method}`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const person = async (email: string) => {
      const registered = await account('Register', { email, password });
      expect(registered.status, registered.body).toBe(200);
      const mail = await mesh.db.selectFrom('mail_outbox').selectAll().where('recipient', '=', email).executeTakeFirstOrThrow();
      const code = /\b(\d{6})\b/.exec(mail.body_text)![1];
      expect((await account('VerifyEmail', { email, code })).status).toBe(200);
      const user = JSON.parse(registered.body).user as { userId: string };
      return { id: user.userId, email };
    };
    const owner = await person('owner@news.test');
    const viewer = await person('viewer@news.test');
    // The organization and its project as AccountService makes them.
    const org = await insertOrganization(mesh.db, { id: 'org_news', name: 'News', ownerUserId: owner.id });
    await upsertOrganizationMember(mesh.db, org.id, viewer.id, 'viewer');
    const ours = await insertProject(mesh.db, { id: 'prj_ours', name: 'Ours', description: '', defaultSignerId: null });
    await addOrganizationProject(mesh.db, org.id, ours.id);
    const theirs = await insertProject(mesh.db, { id: 'prj_theirs', name: 'Theirs', description: '', defaultSignerId: null });

    const json = { origin: origin(), 'content-type': 'application/json' };
    const passwordSignIn = (email: string, pw: string) => request('POST', '/console/api/session', { headers: json, body: JSON.stringify({ method: 'password', email, password: pw }) });
    const wrong = await passwordSignIn(owner.email, 'not the password at all');
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body).error).toBe('wrong e-mail address or password');
    expect((await request('POST', '/console/api/session', { headers: { ...json, origin: 'https://evil.example' }, body: JSON.stringify({ method: 'password', email: owner.email, password }) })).status).toBe(403);

    const open = async (email: string) => {
      const res = await passwordSignIn(email, password);
      expect(res.status, res.body).toBe(200);
      expect(res.body).not.toMatch(/eyJ|c2mr_/); // no token of the account reaches the page
      return { cookie: `__Host-mesh-console=${/=(cs_[^;]+)/.exec(String(res.headers['set-cookie']))![1]}`, ...(JSON.parse(res.body) as { csrfToken: string; method: string; subject: string }) };
    };
    const ownerSession = await open(owner.email);
    expect(ownerSession).toMatchObject({ method: 'ACCOUNT', subject: 'owner@news.test' });
    const viewerSession = await open(viewer.email);
    const call = (session: { cookie: string; csrfToken: string }, method: string, body: unknown, project?: string) =>
      request('POST', `/${method}`, {
        headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, 'content-type': 'application/json', ...(project ? { 'x-console-project': project } : {}) },
        body: JSON.stringify(body),
      });

    // The person's organizations, projects and the scopes of their role, by RPC.
    const orgs = JSON.parse((await call(viewerSession, 'c2pamesh.account.v1.AccountService/ListOrganizations', {})).body);
    expect(orgs.organizations[0]).toMatchObject({ role: 'viewer', projects: [{ projectId: ours.id, name: 'Ours' }], scopes: ['verify', 'registry.read'] });
    // On their project: what the role gives. Another organization's project does not exist for them.
    const listed = JSON.parse((await call(ownerSession, 'c2pamesh.registry.v1.RegistryService/ListProjects', {}, ours.id)).body);
    expect(listed.projects.map((p: { projectId: string }) => p.projectId)).toEqual([ours.id]);
    expect(JSON.parse((await call(ownerSession, 'c2pamesh.registry.v1.RegistryService/ListProjects', {}, theirs.id)).body).code).toBe('not_found');
    expect(JSON.parse((await call(ownerSession, 'c2pamesh.registry.v1.RegistryService/ListProjects', {})).body).code).toBe('permission_denied');
    const viewerKey = JSON.parse((await call(viewerSession, 'c2pamesh.registry.v1.RegistryService/CreateApiKey', { projectId: ours.id, name: 'k', scopes: ['sign'] }, ours.id)).body);
    expect(viewerKey.code).toBe('permission_denied');
    const viewerSign = JSON.parse((await call(viewerSession, 'c2pamesh.signing.v1.SigningService/Sign', { asset: '', format: 'image/png', projectId: ours.id }, ours.id)).body);
    expect(viewerSign.code).toBe('permission_denied');

    // The live marker: the person's own project only, not moved by another tenant's changes.
    const changes = (session: { cookie: string }, project: string, etag?: string) =>
      request('GET', `/console/api/changes?project=${project}`, { headers: { cookie: session.cookie, ...(etag ? { 'if-none-match': etag } : {}) } });
    expect((await changes(ownerSession, theirs.id)).status).toBe(404);
    const first = await changes(ownerSession, ours.id);
    expect(first.status).toBe(200);
    const etag = String(first.headers.etag);
    const admin = await signIn();
    const adminSession = { cookie: `__Host-mesh-console=${/=(cs_[^;]+)/.exec(String(admin.headers['set-cookie']))![1]}`, csrfToken: JSON.parse(admin.body).csrfToken };
    expect((await call(adminSession, 'c2pamesh.registry.v1.RegistryService/CreateApiKey', { projectId: theirs.id, name: 'theirs', scopes: ['sign'] })).status).toBe(200);
    expect((await changes(ownerSession, ours.id, etag)).status).toBe(304);
    expect((await call(ownerSession, 'c2pamesh.registry.v1.RegistryService/CreateApiKey', { projectId: ours.id, name: 'ours', scopes: ['sign'] }, ours.id)).status).toBe(200);
    expect((await changes(ownerSession, ours.id, etag)).status).toBe(200);

    // Signing out ends the account session Login opened as well.
    const out = await request('DELETE', '/console/api/session', { headers: { cookie: viewerSession.cookie, 'x-csrf-token': viewerSession.csrfToken } });
    expect(out.status).toBe(200);
    const sessions = await mesh.db.selectFrom('account_sessions').selectAll().where('user_id', '=', viewer.id).execute();
    expect(sessions.length).toBe(1);
    expect(sessions[0].revoked_at).not.toBeNull();
    expect(JSON.parse((await call(viewerSession, 'c2pamesh.account.v1.AccountService/ListOrganizations', {})).body).code).toBe('unauthenticated');
    // And an account session ended elsewhere ends the console session that stands on it.
    await mesh.db.updateTable('account_sessions').set({ revoked_at: new Date() }).where('user_id', '=', owner.id).execute();
    expect((await request('GET', '/console/api/session', { headers: { cookie: ownerSession.cookie } })).status).toBe(401);
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
