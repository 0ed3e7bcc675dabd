/**
 * AccountService through the real stack: Connect JSON over the TLS listener (as a browser calls
 * it), mail through a real SMTP server started here, codes read from what it received.
 */
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createClient } from '@connectrpc/connect';
import { createInProcessTransport } from '@c2pa-mesh/clients';
import { ADMIN_IDENTITY, createTestMesh, startTestListener, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { RegistryService } from '@c2pa-mesh/proto';
import type { RunningListener } from '@c2pa-mesh/server';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../../../test/support/cleanup.js';

const SERVICE = '/c2pamesh.account.v1.AccountService';
const PASSWORD = 'correct horse battery staple';

interface Received {
  to: string[];
  raw: string;
}

let mesh: TestMesh;
let listener: RunningListener;
let smtp: SMTPServer;
let agent: Agent;
const mailbox: Received[] = [];
const logLines: string[] = [];
/** Every response body the tests saw, to look for password hashes in. */
const bodies: string[] = [];

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mailbox.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  mesh = await createTestMesh(
    {
      MESH_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      MESH_MAIL_FROM: 'Mesh Accounts <accounts@mesh.test>',
      MESH_LOGIN_ATTEMPTS_PER_ACCOUNT: '5',
      MESH_LOGIN_ATTEMPTS_PER_ADDRESS: '40',
    },
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
    smtp: () => new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve())),
  });
});

interface Answer {
  status: number;
  body: Record<string, any>;
  headers: Headers;
}

/** One Connect JSON call, as a browser makes it. */
async function call(method: string, body: object, accessToken?: string): Promise<Answer> {
  const res = await fetch(`${listener.url}${SERVICE}/${method}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  bodies.push(text);
  return { status: res.status, body: text === '' ? {} : JSON.parse(text), headers: res.headers as unknown as Headers };
}

/** The six-digit code of the newest mail to `email` whose subject mentions `what`. */
async function codeFor(email: string, what: 'verification' | 'password reset', after: number): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const mail = mailbox.slice(after).find((m) => m.to.includes(email) && new RegExp(`^Subject: Your c2pa-mesh ${what} code: (\\d{6})`, 'm').test(m.raw));
    if (mail) return new RegExp(`^Subject: Your c2pa-mesh ${what} code: (\\d{6})`, 'm').exec(mail.raw)![1];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${what} mail reached ${email}`);
}

/** Registers, verifies with the mailed code and logs in. */
async function signedIn(email: string) {
  const before = mailbox.length;
  expect((await call('Register', { email, password: PASSWORD, displayName: email.split('@')[0] })).status).toBe(200);
  const code = await codeFor(email, 'verification', before);
  expect((await call('VerifyEmail', { email, code })).status).toBe(200);
  const login = await call('Login', { email, password: PASSWORD });
  expect(login.status).toBe(200);
  return login.body as { tokens: { accessToken: string; refreshToken: string; sessionId: string; expiresIn: string }; user: { userId: string } };
}

describe(`AccountService over TLS with a real SMTP server on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  it('registers, mails a code that verifies the address, logs in, and the access token checks against the JWKS', async () => {
    const email = 'ada@example.org';
    const before = mailbox.length;
    const registered = await call('Register', { email: ' Ada@Example.org ', password: PASSWORD, displayName: 'Ada' });
    expect(registered.status).toBe(200);
    expect(registered.body.user).toMatchObject({ email, displayName: 'Ada' });
    expect(registered.body.user.emailVerified).toBeUndefined();
    const code = await codeFor(email, 'verification', before);
    const mail = mailbox.find((m) => m.raw.includes(code))!;
    expect(mail.raw).toMatch(/^From: Mesh Accounts <accounts@mesh\.test>/m);

    // Not yet verified: the right password is not enough.
    const early = await call('Login', { email, password: PASSWORD });
    expect(early.status).toBe(400);
    expect(early.body.code).toBe('failed_precondition');
    expect(early.body.message).toMatch(/verify your e-mail address/);

    const wrongCode = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const wrong = await call('VerifyEmail', { email, code: wrongCode });
    expect(wrong.body.code).toBe('failed_precondition');
    expect((await call('VerifyEmail', { email, code: 'abc' })).body.code).toBe('invalid_argument');
    const verified = await call('VerifyEmail', { email, code });
    expect(verified.body.user.emailVerified).toBe(true);

    const login = await call('Login', { email: 'ADA@example.org', password: PASSWORD });
    expect(login.status).toBe(200);
    const { tokens } = login.body;
    expect(tokens.tokenType).toBe('Bearer');
    expect(Number(tokens.expiresIn)).toBe(900);
    expect(tokens.refreshToken).toMatch(/^c2mr_/);

    const jwksRes = await fetch(`${listener.url}/.well-known/jwks.json`, { dispatcher: agent });
    expect(jwksRes.status).toBe(200);
    const jwks = (await jwksRes.json()) as JSONWebKeySet;
    // One JWKS: the product-certificate proof keys and the access-token keys together.
    expect(jwks.keys.some((k) => k.kid?.startsWith('mc4p-'))).toBe(true);
    expect(jwks.keys.some((k) => k.kid?.startsWith('account-'))).toBe(true);
    const { payload, protectedHeader } = await jwtVerify(tokens.accessToken, createLocalJWKSet(jwks), { issuer: 'c2pa-mesh', audience: 'c2pa-mesh', typ: 'at+jwt' });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload.sub).toBe(login.body.user.userId);
    expect(payload.sid).toBe(tokens.sessionId);
    expect(payload.exp! - payload.iat!).toBe(900);

    const me = await call('GetCurrentUser', {}, tokens.accessToken);
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ userId: login.body.user.userId, email, emailVerified: true });
  });

  it('answers a wrong password and an unknown address alike, with a hash checked for both', async () => {
    await signedIn('grace@example.org');
    const timed = async (email: string) => {
      const started = performance.now();
      const answer = await call('Login', { email, password: 'not the password at all' });
      return { answer, ms: performance.now() - started };
    };
    const wrong = [await timed('grace@example.org'), await timed('grace@example.org')];
    const unknown = [await timed('nobody-1@example.org'), await timed('nobody-2@example.org')];
    for (const { answer } of [...wrong, ...unknown]) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ code: 'unauthenticated', message: 'wrong e-mail address or password' });
    }
    // An Argon2id check takes tens of milliseconds; without the dummy hash an unknown address
    // would answer in a few. Loose on purpose: only the absence of the hash would fail this.
    const fastest = (xs: { ms: number }[]) => Math.min(...xs.map((x) => x.ms));
    expect(fastest(unknown)).toBeGreaterThan(fastest(wrong) * 0.3);
  });

  it('limits login attempts per account, then per client address', async () => {
    // The login of signedIn counts too: it and four wrong guesses fill the five a minute.
    await signedIn('hedy@example.org');
    const codes: string[] = [];
    for (let i = 0; i < 4; i++) codes.push((await call('Login', { email: 'hedy@example.org', password: `guess number ${i} wrong` })).body.code);
    expect(codes).toEqual(Array(4).fill('unauthenticated'));
    const refused = await call('Login', { email: 'hedy@example.org', password: PASSWORD });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('resource_exhausted');
    expect(refused.body.message).toMatch(/too many attempts for this account/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    // Another client address, spreading its guesses over many accounts, meets the address limit.
    const { AccountService } = await import('@c2pa-mesh/proto');
    const elsewhere = createClient(AccountService, createInProcessTransport({ routes: mesh.routes, interceptors: mesh.interceptors, clientIp: '198.51.100.7' }));
    let refusedAt = -1;
    for (let i = 0; i < 45 && refusedAt < 0; i++) {
      try {
        await elsewhere.login({ email: `spray-${i}@example.org`, password: 'spray spray spray' });
      } catch (err) {
        if ((err as Error).message.includes('too many attempts for your address')) refusedAt = i;
      }
    }
    expect(refusedAt).toBe(40);
  });

  it('rotates refresh tokens, and a reused one ends the whole session', async () => {
    const { tokens } = await signedIn('katherine@example.org');
    const first = await call('Refresh', { refreshToken: tokens.refreshToken });
    expect(first.status).toBe(200);
    const second = first.body.tokens;
    expect(second.refreshToken).not.toBe(tokens.refreshToken);
    expect(second.sessionId).toBe(tokens.sessionId);
    expect((await call('GetCurrentUser', {}, second.accessToken)).status).toBe(200);

    // The retired token again (a stolen copy): refused, and every token of the session with it.
    const reused = await call('Refresh', { refreshToken: tokens.refreshToken });
    expect(reused.status).toBe(401);
    expect(reused.body.message).toMatch(/already used/);
    expect((await call('Refresh', { refreshToken: second.refreshToken })).body).toEqual({ code: 'unauthenticated', message: 'this session has ended: log in again' });
    expect((await call('GetCurrentUser', {}, second.accessToken)).body.code).toBe('unauthenticated');
    expect((await call('Refresh', { refreshToken: 'c2mr_not-a-token' })).body.code).toBe('unauthenticated');
    expect((await call('Refresh', { refreshToken: '' })).body.code).toBe('invalid_argument');
  });

  it('logs out, lists and revokes sessions; another person\'s session is not found', async () => {
    const a = await signedIn('lise@example.org');
    const again = await call('Login', { email: 'lise@example.org', password: PASSWORD });
    const b = again.body.tokens;
    const sessions = await call('ListSessions', {}, a.tokens.accessToken);
    expect(sessions.body.sessions.map((s: { sessionId: string }) => s.sessionId).sort()).toEqual([a.tokens.sessionId, b.sessionId].sort());
    expect(sessions.body.sessions.find((s: { current?: boolean }) => s.current).sessionId).toBe(a.tokens.sessionId);

    const other = await signedIn('emmy@example.org');
    expect((await call('RevokeSession', { sessionId: other.tokens.sessionId }, a.tokens.accessToken)).body.code).toBe('not_found');
    expect((await call('RevokeSession', { sessionId: b.sessionId }, a.tokens.accessToken)).status).toBe(200);
    expect((await call('GetCurrentUser', {}, b.accessToken)).body).toEqual({ code: 'unauthenticated', message: 'this session has ended: log in again' });

    expect((await call('Logout', { refreshToken: a.tokens.refreshToken })).status).toBe(200);
    expect((await call('GetCurrentUser', {}, a.tokens.accessToken)).body.code).toBe('unauthenticated');
    expect((await call('GetCurrentUser', {}, other.tokens.accessToken)).status).toBe(200);
  });

  it('resets a forgotten password with a mailed code, ending every session', async () => {
    const email = 'rosalind@example.org';
    const { tokens } = await signedIn(email);
    const before = mailbox.length;
    expect((await call('ForgotPassword', { email })).body).toEqual({});
    // Unknown addresses get the same answer, and no mail.
    expect((await call('ForgotPassword', { email: 'nobody@example.org' })).body).toEqual({});
    const code = await codeFor(email, 'password reset', before);
    expect(mailbox.slice(before).some((m) => m.to.includes('nobody@example.org'))).toBe(false);

    expect((await call('ResetPassword', { email, code, newPassword: 'short' })).body.code).toBe('invalid_argument');
    expect((await call('ResetPassword', { email: 'nobody@example.org', code, newPassword: 'a brand new passphrase' })).body.code).toBe('failed_precondition');
    expect((await call('ResetPassword', { email, code, newPassword: 'a brand new passphrase' })).status).toBe(200);
    // The code works once.
    expect((await call('ResetPassword', { email, code, newPassword: 'yet another passphrase' })).body.code).toBe('failed_precondition');
    expect((await call('GetCurrentUser', {}, tokens.accessToken)).body.code).toBe('unauthenticated');
    expect((await call('Login', { email, password: PASSWORD })).status).toBe(401);
    expect((await call('Login', { email, password: 'a brand new passphrase' })).status).toBe(200);
  });

  it('changes a password given the current one, ending the other sessions', async () => {
    const email = 'barbara@example.org';
    const { tokens } = await signedIn(email);
    const other = (await call('Login', { email, password: PASSWORD })).body.tokens;
    expect((await call('ChangePassword', { currentPassword: 'not it at all', newPassword: 'the next passphrase' }, tokens.accessToken)).body.code).toBe('permission_denied');
    expect((await call('ChangePassword', { currentPassword: PASSWORD, newPassword: 'the next passphrase' }, tokens.accessToken)).status).toBe(200);
    expect((await call('GetCurrentUser', {}, tokens.accessToken)).status).toBe(200);
    expect((await call('GetCurrentUser', {}, other.accessToken)).body.code).toBe('unauthenticated');
    expect((await call('Login', { email, password: 'the next passphrase' })).status).toBe(200);
  });

  it('refuses bad input with client errors and tells access tokens from API keys', async () => {
    expect((await call('Register', { email: 'not-an-address', password: PASSWORD })).body.code).toBe('invalid_argument');
    expect((await call('Register', { email: 'x@example.org', password: 'too short' })).body.code).toBe('invalid_argument');
    expect((await call('Login', { email: '', password: PASSWORD })).body.code).toBe('invalid_argument');
    expect((await call('GetCurrentUser', {})).body.code).toBe('unauthenticated');
    expect((await call('GetCurrentUser', {}, 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln')).body).toEqual({ code: 'unauthenticated', message: 'invalid access token: not signed by a key of this mesh' });
    expect((await call('GetCurrentUser', {}, 'nonsense')).body.code).toBe('unauthenticated');

    const admin = createClient(RegistryService, mesh.transport(ADMIN_IDENTITY));
    const { projectId } = await admin.createProject({ name: 'Accounts' });
    const { key } = await admin.createApiKey({ projectId, name: 'verify', scopes: ['verify'] });
    const withKey = await call('GetCurrentUser', {}, key);
    expect(withKey.body.code).toBe('permission_denied');
    // A person's token holds no scope of its own: it signs nothing for any project.
    const { tokens } = await signedIn('mary@example.org');
    const sign = await fetch(`${listener.url}/c2pamesh.signing.v1.SigningService/ListSigners`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.accessToken}` },
      body: '{}',
    });
    expect(((await sign.json()) as { code: string }).code).toBe('permission_denied');
  });

  it('never shows a password hash in a response, a log line or an audit event', async () => {
    const users = await mesh.db.selectFrom('users').select(['password_hash']).execute();
    expect(users.length).toBeGreaterThan(5);
    const audit = await mesh.db.selectFrom('audit_events').selectAll().execute();
    expect(audit.some((e) => e.service === 'c2pamesh.account.v1.AccountService')).toBe(true);
    const everything = [...bodies, ...logLines, ...audit.map((e) => JSON.stringify(e))].join('\n');
    expect(logLines.length).toBeGreaterThan(10);
    expect(everything).not.toContain('$argon2');
    for (const { password_hash } of users) expect(everything).not.toContain(password_hash.split('$').pop());
    expect(everything).not.toContain(PASSWORD);
  });
});
