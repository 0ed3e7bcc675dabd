/**
 * Certana's auth endpoints under `/certana/v1/` with its reference's own example requests,
 * through the real TLS listener. No SMTP server: the code is read from the outbox.
 */
import { createTestMesh, startTestListener, type TestMesh } from '@c2pa-mesh/mesh/testing';
import type { RunningListener } from '@c2pa-mesh/server';
import { listOutboxMail } from '@c2pa-mesh/storage';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../../../test/support/cleanup.js';

let mesh: TestMesh;
let listener: RunningListener;
let agent: Agent;

beforeAll(async () => {
  mesh = await createTestMesh();
  ({ listener } = await startTestListener(mesh, { fallback: mesh.gateway }));
  agent = new Agent({ connect: { ca: mesh.pki.meshCa.pem } });
}, 120_000);

afterAll(async () => {
  await cleanUp({ agent: () => agent?.close(), listener: () => listener?.close(0), mesh: () => mesh?.close() });
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${listener.url}/certana/v1/${path}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : (JSON.parse(text) as Record<string, any>), text };
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

describe(`Certana auth drop-in on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  it('registers, verifies, logs in, refreshes and logs out with the reference\'s requests', async () => {
    // POST /auth/register, the reference's example body.
    const registered = await post('auth/register', { email: 'user@example.com', password: 'SecurePassword123!', full_name: 'John Doe' });
    expect(registered.status).toBe(201);
    expect(registered.json).toMatchObject({
      data: { id: expect.stringMatching(/^usr_/), email: 'user@example.com', full_name: 'John Doe', tier: 'free', created_at: expect.stringMatching(ISO) },
      message: expect.any(String),
      timestamp: expect.stringMatching(ISO),
      request_id: expect.any(String),
    });
    expect(registered.text).not.toContain('argon2');

    // Before the address is verified, login is refused in Certana's error shape.
    const early = await post('auth/login', { email: 'user@example.com', password: 'SecurePassword123!' });
    expect(early.status).toBe(400);
    expect(early.json).toEqual({ detail: expect.stringMatching(/verify your e-mail address/), error_code: 'PRECONDITION_FAILED', timestamp: expect.stringMatching(ISO) });

    const mail = await listOutboxMail(mesh.db, 'user@example.com');
    const code = /code: (\d{6})/.exec(mail[mail.length - 1].subject)![1];
    const verified = await post('auth/verify-email', { email: 'user@example.com', code });
    expect(verified.status).toBe(200);
    expect(verified.json!.data.email_verified).toBe(true);

    const wrong = await post('auth/login', { email: 'user@example.com', password: 'WrongPassword123!' });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ detail: 'wrong e-mail address or password', error_code: 'INVALID_CREDENTIALS', timestamp: expect.stringMatching(ISO) });
    const unknown = await post('auth/login', { email: 'nobody@example.com', password: 'SecurePassword123!' });
    expect(unknown.json!.error_code).toBe('INVALID_CREDENTIALS');
    expect(unknown.json!.detail).toBe(wrong.json!.detail);

    // POST /auth/login, the reference's example body.
    const login = await post('auth/login', { email: 'user@example.com', password: 'SecurePassword123!' });
    expect(login.status).toBe(200);
    expect(login.json!.data).toEqual({ access_token: expect.stringMatching(/^eyJ/), refresh_token: expect.stringMatching(/^c2mr_/), token_type: 'bearer', expires_in: 900 });

    // POST /auth/refresh: a new access token, and a new refresh token (the one sent is retired).
    const refreshed = await post('auth/refresh', { refresh_token: login.json!.data.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.json!.data).toMatchObject({ access_token: expect.stringMatching(/^eyJ/), token_type: 'bearer', expires_in: 900 });
    const reused = await post('auth/refresh', { refresh_token: login.json!.data.refresh_token });
    expect(reused.status).toBe(401);
    expect(reused.json!.error_code).toBe('UNAUTHORIZED');

    // The reuse ended that session; a new login, then POST /auth/logout with its token: 204.
    const again = await post('auth/login', { email: 'user@example.com', password: 'SecurePassword123!' });
    const token = again.json!.data.access_token as string;
    const me = () =>
      fetch(`${listener.url}/c2pamesh.account.v1.AccountService/GetCurrentUser`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: '{}',
      });
    expect((await me()).status).toBe(200);
    const out = await post('auth/logout', undefined, { authorization: `Bearer ${token}` });
    expect(out.status).toBe(204);
    expect((await me()).status).toBe(401);
    expect((await post('auth/logout', undefined)).json!.error_code).toBe('UNAUTHORIZED');
  });

  it('answers bad input in Certana\'s error shape', async () => {
    const bad = await post('auth/register', { email: 'x@example.com' });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ detail: 'missing field "password"', error_code: 'VALIDATION_ERROR', timestamp: expect.stringMatching(ISO) });
    const res = await fetch(`${listener.url}/certana/v1/auth/login`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Record<string, string>).error_code).toBe('VALIDATION_ERROR');
    const missing = await post('auth/nothing', {});
    expect(missing.status).toBe(404);
    expect(missing.json!.error_code).toBe('NOT_FOUND');
  });
});
