/**
 * Signing in without a password at the mesh: through an organization's OpenID Connect provider
 * (a real one, oidc-provider, driven over HTTP as a browser would) and from a device approved by
 * a signed-in person; sign-ins audited, registration that tells nobody which addresses are taken,
 * and no password hash, client secret or code in any response, log line or audit event.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createTestMesh, startTestListener, type TestMesh } from '@c2pa-mesh/mesh/testing';
import type { RunningListener } from '@c2pa-mesh/server';
import { listOutboxMail } from '@c2pa-mesh/storage';
import Provider from 'oidc-provider';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../../../test/support/cleanup.js';
import { lockRootNetwork } from '../../../test/support/root-network-lock.js';

const SERVICE = '/c2pamesh.account.v1.AccountService';
const PASSWORD = 'correct horse battery staple';
const CLIENT_SECRET = 'provider-client-secret-that-must-stay-sealed';
const REDIRECT_URI = 'https://app.corp.example/signed-in';

let mesh: TestMesh;
let listener: RunningListener;
let agent: Agent;
let providerServer: Server;
let issuer: string;
const logLines: string[] = [];
const bodies: string[] = [];

beforeAll(async () => {
  // The provider's port is its issuer: listen first, then make the provider.
  providerServer = createServer();
  await new Promise<void>((resolve) => providerServer.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(providerServer.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'c2pa-mesh', client_secret: CLIENT_SECRET, redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code'], response_types: ['code'] }],
    // The login typed at the provider is the account: its address, verified unless it says so.
    async findAccount(_ctx, id) {
      return { accountId: id, claims: async () => ({ sub: `sub-${id}`, email: id, email_verified: !id.startsWith('unverified'), name: id.split('@')[0] }) };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    cookies: { keys: ['test cookie key, long enough to sign'] },
    pkce: { required: () => true },
  });
  provider.on('server_error', () => undefined);
  providerServer.on('request', provider.callback());

  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  mesh = await createTestMesh(
    { MESH_OIDC_ALLOW_HOSTS: '127.0.0.1', MESH_DEVICE_POLL_INTERVAL_SECONDS: '1', MESH_LOGIN_ATTEMPTS_PER_ADDRESS: '200' },
    { logger: pino({ level: 'debug' }, logStream) },
  );
  ({ listener } = await startTestListener(mesh, { fallback: mesh.gateway }));
  agent = new Agent({ connect: { ca: mesh.pki.meshCa.pem } });
}, 120_000);

afterAll(async () => {
  await cleanUp({
    agent: () => agent?.close(),
    listener: () => listener?.close(0),
    mesh: () => mesh?.close(),
    provider: () => new Promise<void>((resolve) => (providerServer ? (providerServer.closeAllConnections(), providerServer.close(() => resolve())) : resolve())),
  });
});

interface Answer {
  status: number;
  body: Record<string, any>;
}

/** One Connect JSON call over the TLS listener. */
async function call(method: string, body: object, accessToken?: string): Promise<Answer> {
  const res = await fetch(`${listener.url}${SERVICE}/${method}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  bodies.push(text);
  return { status: res.status, body: text === '' ? {} : JSON.parse(text) };
}

async function signedIn(email: string) {
  expect((await call('Register', { email, password: PASSWORD })).status).toBe(200);
  const code = /code: (\d{6})/.exec((await listOutboxMail(mesh.db, email)).find((m) => m.subject.includes('verification'))!.subject)![1];
  expect((await call('VerifyEmail', { email, code })).status).toBe(200);
  const login = await call('Login', { email, password: PASSWORD });
  expect(login.status).toBe(200);
  return login.body as { tokens: { accessToken: string; refreshToken: string }; user: { userId: string } };
}

/**
 * A person at the provider, as a browser: follows the authorization URL, fills in the login form
 * and the consent form the provider serves, and returns the URL it redirects back to.
 */
async function signInAtProvider(authorizationUrl: string, login: string): Promise<string> {
  const cookies = new Map<string, string>();
  let url = authorizationUrl;
  let method = 'GET';
  let form: URLSearchParams | undefined;
  for (let hop = 0; hop < 20; hop++) {
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form?.toString(),
    });
    for (const set of res.headers.getSetCookie()) {
      const [pair] = set.split(';');
      const at = pair.indexOf('=');
      cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    const location = res.headers.get('location');
    if (location) {
      const next = new URL(location, url).href;
      await res.body?.cancel();
      if (next.startsWith(REDIRECT_URI)) return next;
      [url, method, form] = [next, 'GET', undefined];
      continue;
    }
    const html = await res.text();
    expect(res.status, html.slice(0, 500)).toBe(200);
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    if (!action || !prompt) throw new Error(`the provider served a page without a form: ${html.slice(0, 300)}`);
    url = new URL(action, url).href;
    method = 'POST';
    form = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'anything' } : { prompt });
  }
  throw new Error('the provider never redirected back');
}

describe(`sign-in with an identity provider, device login and hardening on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let organizationId = '';
  let projectId = '';
  let owner: Awaited<ReturnType<typeof signedIn>>;

  it('an organization owner configures its provider; the client secret is sealed and never shown', async () => {
    owner = await signedIn('olga@corp.example');
    organizationId = (await call('CreateOrganization', { name: 'Corp' }, owner.tokens.accessToken)).body.organization.organizationId;
    projectId = (await call('CreateOrganizationProject', { organizationId, name: 'Corp newsroom' }, owner.tokens.accessToken)).body.projectId;
    const set = await call(
      'SetIdentityProvider',
      { organizationId, issuerUrl: issuer, clientId: 'c2pa-mesh', clientSecret: CLIENT_SECRET, allowedEmailDomain: 'corp.example', defaultRole: 'viewer', redirectUri: REDIRECT_URI },
      owner.tokens.accessToken,
    );
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.identityProvider).toMatchObject({ issuerUrl: issuer, clientId: 'c2pa-mesh', clientSecretSet: true, allowedEmailDomain: 'corp.example', defaultRole: 'viewer' });
    const row = await mesh.db.selectFrom('organization_identity_providers').selectAll().executeTakeFirstOrThrow();
    expect(Buffer.from(row.encrypted_client_secret!).toString('latin1')).not.toContain(CLIENT_SECRET);
    expect(JSON.stringify((await call('GetIdentityProvider', { organizationId }, owner.tokens.accessToken)).body)).not.toContain(CLIENT_SECRET);
  });

  it('refuses providers outside the address policy, and callers who do not manage the organization', async () => {
    const base = { organizationId, clientId: 'x', allowedEmailDomain: 'corp.example', redirectUri: REDIRECT_URI };
    // Loopback is allowed only as 127.0.0.1 (the allowlist); ::1 and the metadata address are not.
    const v6 = await call('SetIdentityProvider', { ...base, issuerUrl: 'https://[::1]:9/' }, owner.tokens.accessToken);
    expect([v6.body.code, v6.body.message]).toEqual(['invalid_argument', expect.stringContaining('a loopback address')]);
    const metadata = await call('SetIdentityProvider', { ...base, issuerUrl: 'https://169.254.169.254/' }, owner.tokens.accessToken);
    expect([metadata.body.code, metadata.body.message]).toEqual(['invalid_argument', expect.stringContaining('cloud metadata')]);
    const http = await call('SetIdentityProvider', { ...base, issuerUrl: 'http://idp.corp.example/' }, owner.tokens.accessToken);
    expect([http.body.code, http.body.message]).toEqual(['invalid_argument', expect.stringContaining('MESH_OIDC_ALLOW_HOSTS')]);
    const stranger = await signedIn('sam@elsewhere.example');
    expect((await call('SetIdentityProvider', { ...base, issuerUrl: issuer }, stranger.tokens.accessToken)).body.code).toBe('not_found');
    expect((await call('StartOidcSignIn', { organizationId: 'org_none' })).body.code).toBe('not_found');
  });

  it('a new person signs in at the provider: the mesh makes the account, a viewer of the organization, with its own tokens', async () => {
    const start = await call('StartOidcSignIn', { organizationId });
    expect(start.status).toBe(200);
    const authorization = new URL(start.body.authorizationUrl);
    expect(authorization.origin).toBe(issuer);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorization.searchParams.get('nonce')).toBeTruthy();
    expect(authorization.searchParams.get('state')).toBe(start.body.state);
    const callback = await signInAtProvider(start.body.authorizationUrl, 'bob@corp.example');
    expect(new URL(callback).searchParams.get('code')).toBeTruthy();

    const finish = await call('FinishOidcSignIn', { callbackUrl: callback, projectId });
    expect(finish.status, JSON.stringify(finish.body)).toBe(200);
    expect(finish.body).toMatchObject({ organizationId, created: true, user: { email: 'bob@corp.example', emailVerified: true } });
    expect(finish.body.tokens.scopes.sort()).toEqual(['registry.read', 'verify']);
    const me = await call('GetCurrentUser', {}, finish.body.tokens.accessToken);
    expect(me.body.user.userId).toBe(finish.body.user.userId);
    const orgs = await call('ListOrganizations', {}, finish.body.tokens.accessToken);
    expect(orgs.body.organizations).toEqual([expect.objectContaining({ organizationId, role: 'viewer' })]);
    // The mesh's refresh token works as after a password login.
    expect((await call('Refresh', { refreshToken: finish.body.tokens.refreshToken })).status).toBe(200);

    // The same callback again (a replay) finishes nothing.
    const replay = await call('FinishOidcSignIn', { callbackUrl: callback });
    expect([replay.body.code, replay.body.message]).toEqual(['failed_precondition', expect.stringContaining('start it again')]);

    // The same person again: the same account, linked by the provider's subject.
    const again = await call('FinishOidcSignIn', { callbackUrl: await signInAtProvider((await call('StartOidcSignIn', { organizationId })).body.authorizationUrl, 'bob@corp.example') });
    expect({ created: again.body.created ?? false, userId: again.body.user?.userId }).toEqual({ created: false, userId: finish.body.user.userId });
  }, 30_000);

  it('a member keeps their role; password accounts, addresses outside the domain and unverified ones are refused', async () => {
    // A provider account whose address has a password account is not let in as that account:
    // the organization's admin chose the provider, and it could claim anyone at the domain.
    const olga = await call('FinishOidcSignIn', { callbackUrl: await signInAtProvider((await call('StartOidcSignIn', { organizationId })).body.authorizationUrl, 'olga@corp.example'), projectId });
    expect([olga.body.code, olga.body.message]).toEqual(['failed_precondition', expect.stringContaining('signs in with its password')]);
    // A provider-made member whose role was raised keeps it on the next sign-in.
    const bobId = (await mesh.db.selectFrom('users').select('id').where('email', '=', 'bob@corp.example').executeTakeFirstOrThrow()).id;
    expect((await call('UpdateMemberRole', { organizationId, userId: bobId, role: 'member' }, owner.tokens.accessToken)).status).toBe(200);
    const bob = await call('FinishOidcSignIn', { callbackUrl: await signInAtProvider((await call('StartOidcSignIn', { organizationId })).body.authorizationUrl, 'bob@corp.example'), projectId });
    expect(bob.body.tokens.scopes).toContain('sign');
    const outside = await call('FinishOidcSignIn', { callbackUrl: await signInAtProvider((await call('StartOidcSignIn', { organizationId })).body.authorizationUrl, 'eve@other.example') });
    expect([outside.body.code, outside.body.message]).toEqual(['failed_precondition', expect.stringContaining('only addresses in corp.example')]);
    const unverified = await call('FinishOidcSignIn', { callbackUrl: await signInAtProvider((await call('StartOidcSignIn', { organizationId })).body.authorizationUrl, 'unverified@corp.example') });
    expect(unverified.body.code).toBe('failed_precondition');
    // A callback whose code was tampered with is refused by the provider's token endpoint.
    const tampered = new URL(await signInAtProvider((await call('StartOidcSignIn', { organizationId })).body.authorizationUrl, 'bob@corp.example'));
    tampered.searchParams.set('code', 'not-the-code');
    expect((await call('FinishOidcSignIn', { callbackUrl: tampered.href })).body.code).toBe('unauthenticated');
    expect((await call('FinishOidcSignIn', { callbackUrl: 'not a url' })).body.code).toBe('invalid_argument');
  }, 30_000);

  it('a device logs in once a signed-in person approves its code', async () => {
    const start = await call('StartDeviceLogin', { clientName: 'test device' });
    expect(start.status).toBe(200);
    expect(start.body).toMatchObject({ deviceCode: expect.stringMatching(/^c2md_/), userCode: expect.stringMatching(/^[B-Z]{4}-[B-Z]{4}$/), interval: '1', expiresIn: '600' });
    expect(start.body.verificationUri).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/device$/);
    const first = await call('PollDeviceLogin', { deviceCode: start.body.deviceCode });
    expect(first.body.status).toBe('authorization_pending');
    // Polling again at once is too fast.
    expect((await call('PollDeviceLogin', { deviceCode: start.body.deviceCode })).body).toMatchObject({ status: 'slow_down', interval: '6' });
    expect((await call('ApproveDeviceLogin', { userCode: 'BBBB-BBBB' }, owner.tokens.accessToken)).body.code).toBe('not_found');
    expect((await call('ApproveDeviceLogin', { userCode: start.body.userCode })).body.code).toBe('unauthenticated');
    const approve = await call('ApproveDeviceLogin', { userCode: start.body.userCode.toLowerCase().replace('-', ' ') }, owner.tokens.accessToken);
    expect(approve.body).toEqual({ clientName: 'test device' });
    await new Promise((r) => setTimeout(r, 1000));
    const done = await call('PollDeviceLogin', { deviceCode: start.body.deviceCode });
    expect(done.body).toMatchObject({ status: 'approved', user: { userId: owner.user.userId } });
    expect((await call('GetCurrentUser', {}, done.body.tokens.accessToken)).body.user.email).toBe('olga@corp.example');
    expect((await call('PollDeviceLogin', { deviceCode: start.body.deviceCode })).body.code).toBe('failed_precondition');
    expect((await call('PollDeviceLogin', { deviceCode: 'nonsense' })).body.code).toBe('invalid_argument');
  }, 20_000);

  it('a person approves a device on the /device page in a real browser', async () => {
    const start = await call('StartDeviceLogin', { clientName: 'browser-approved device' });
    // No network namespace comes or goes while the browser runs (Chromium would abort its loads).
    const releaseNetwork = await lockRootNetwork();
    try {
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
      try {
        // The mesh's server certificate chains to the mesh CA, which the browser does not know.
        const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
        const violations: string[] = [];
        page.on('console', (msg) => {
          if (/Content[- ]Security[- ]Policy/i.test(msg.text())) violations.push(msg.text());
        });
        const response = await page.goto(start.body.verificationUriComplete);
        expect(response!.status()).toBe(200);
        expect(response!.headers()['content-security-policy']).toContain("default-src 'none'");
        expect(await page.inputValue('#code')).toBe(start.body.userCode);
        await page.fill('#email', 'olga@corp.example');
        await page.fill('#password', 'not her password');
        await page.click('button[type=submit]');
        await page.waitForSelector('#status.error');
        expect(await page.textContent('#status')).toContain('wrong e-mail address or password');
        await page.fill('#password', PASSWORD);
        await page.click('button[type=submit]');
        await page.locator('#status', { hasText: /^Approved/ }).waitFor();
        expect(await page.textContent('#status')).toContain('browser-approved device is now logged in as olga@corp.example');
        expect(violations).toEqual([]);
      } finally {
        await browser.close();
      }
    } finally {
      await releaseNetwork();
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect((await call('PollDeviceLogin', { deviceCode: start.body.deviceCode })).body).toMatchObject({ status: 'approved', user: { userId: owner.user.userId } });
  }, 60_000);

  it('registering a taken address answers as for a new one and tells its owner by mail', async () => {
    const fresh = await call('Register', { email: 'nora@corp.example', password: PASSWORD, displayName: 'Nora' });
    const taken = await call('Register', { email: 'olga@corp.example', password: PASSWORD, displayName: 'Nora' });
    expect(taken.status).toBe(200);
    expect(Object.keys(taken.body.user).sort()).toEqual(Object.keys(fresh.body.user).sort());
    expect(taken.body.user.userId).not.toBe(owner.user.userId);
    const mails = await listOutboxMail(mesh.db, 'olga@corp.example');
    expect(mails.map((m) => m.subject)).toContain('Someone tried to register with your c2pa-mesh address');
    // The taken address's account is untouched: its password still works, the new one does not.
    expect((await call('Login', { email: 'olga@corp.example', password: PASSWORD })).status).toBe(200);

    // Similar time: the median of a few of each is within a factor of two (both hash and mail).
    const timed = async (email: string) => {
      const t0 = performance.now();
      await call('Register', { email, password: PASSWORD });
      return performance.now() - t0;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const newOnes: number[] = [];
    const takenOnes: number[] = [];
    for (let i = 0; i < 5; i++) {
      newOnes.push(await timed(`timing-${i}@corp.example`));
      takenOnes.push(await timed('olga@corp.example'));
    }
    const ratio = median(takenOnes) / median(newOnes);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  }, 30_000);

  it('sign-ins are audited with the account, and no hash, secret or code appears in a response, log line or audit event', async () => {
    const logout = await call('Logout', { refreshToken: owner.tokens.refreshToken });
    expect(logout.status).toBe(200);
    await call('ResetPassword', { email: 'olga@corp.example', code: '000000', newPassword: 'another long passphrase' });
    const audit = await mesh.db.selectFrom('audit_events').selectAll().where('service', '=', 'c2pamesh.account.v1.AccountService').execute();
    const operations = new Set(audit.map((e) => e.operation));
    for (const op of ['Login', 'Refresh', 'Logout', 'ResetPassword', 'StartOidcSignIn', 'FinishOidcSignIn', 'StartDeviceLogin', 'PollDeviceLogin']) expect(operations, op).toContain(op);
    expect(audit.find((e) => e.operation === 'Logout' && e.status === 'ok')).toMatchObject({ identity: owner.user.userId, identity_kind: 'USER' });
    expect(audit.filter((e) => e.operation === 'FinishOidcSignIn' && e.status === 'ok').every((e) => e.identity_kind === 'USER' && e.identity.startsWith('usr'))).toBe(true);
    // Nothing in Register, VerifyEmail: public calls other than signing in stay out of the table.
    expect(operations).not.toContain('Register');

    const users = await mesh.db.selectFrom('users').select(['password_hash']).execute();
    const refreshTokens = bodies.flatMap((b) => [...b.matchAll(/c2mr_[\w-]+/g)].map((m) => m[0]));
    const deviceCodes = bodies.flatMap((b) => [...b.matchAll(/c2md_[\w-]+/g)].map((m) => m[0]));
    const logsAndAudit = [...logLines, ...audit.map((e) => JSON.stringify(e))].join('\n');
    const everything = [...bodies, logsAndAudit].join('\n');
    expect(logLines.length).toBeGreaterThan(20);
    expect(everything).not.toContain('$argon2');
    for (const { password_hash } of users) expect(everything).not.toContain(password_hash.split('$').pop());
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(CLIENT_SECRET);
    expect(refreshTokens.length).toBeGreaterThan(3);
    for (const token of [...refreshTokens, ...deviceCodes]) expect(logsAndAudit).not.toContain(token);
  });
});
