/**
 * `c2pa-mesh login`: a person's tokens kept in the config dir (mode 0600) and used by the other
 * commands, refreshed when they expire, ended by `logout`. Against a real TLS listener.
 */
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { createClient } from '@connectrpc/connect';
import { createTestMesh, startTestListener, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { AccountService } from '@c2pa-mesh/proto';
import type { RunningListener } from '@c2pa-mesh/server';
import { listOutboxMail } from '@c2pa-mesh/storage';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, removeDir } from '../../../test/support/cleanup.js';
import { runCli } from './program.js';

const PASSWORD = 'a long enough passphrase';
let mesh: TestMesh;
let listener: RunningListener;
let home: string;
let caFile: string;
let projectId = '';
let personToken = '';

beforeAll(async () => {
  mesh = await createTestMesh({ MESH_DEVICE_POLL_INTERVAL_SECONDS: '1' });
  ({ listener } = await startTestListener(mesh));
  home = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-login-'));
  caFile = path.join(home, 'mesh-ca.pem');
  await writeFile(caFile, mesh.pki.meshCa.pem);
  const accounts = createClient(AccountService, mesh.transport());
  await accounts.register({ email: 'cli@example.org', password: PASSWORD });
  const code = /code: (\d{6})/.exec((await listOutboxMail(mesh.db, 'cli@example.org'))[0].subject)![1];
  await accounts.verifyEmail({ email: 'cli@example.org', code });
  const token = (await accounts.login({ email: 'cli@example.org', password: PASSWORD })).tokens!.accessToken;
  personToken = token;
  const auth = { headers: { authorization: `Bearer ${token}` } };
  const org = (await accounts.createOrganization({ name: 'CLI org' }, auth)).organization!.organizationId;
  projectId = (await accounts.createOrganizationProject({ organizationId: org, name: 'CLI project' }, auth)).projectId;
}, 120_000);

afterAll(async () => {
  await cleanUp({ listener: () => listener?.close(0), mesh: () => mesh?.close(), home: () => removeDir(home) });
});

async function cli(args: string[], stdin?: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const env = { HOME: home, XDG_CONFIG_HOME: path.join(home, 'config'), MESH_DATA_DIR: path.join(home, 'no-data-dir') };
  const code = await runCli(['node', 'c2pa-mesh', ...args, '--url', listener.url, '--ca', caFile], {
    stdout,
    stderr,
    env,
    cwd: home,
    stdin: Readable.from(stdin === undefined ? [] : [stdin]),
  });
  return { code, out, err };
}

describe(`c2pa-mesh login on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  it('logs in with a password on stdin, keeps the tokens 0600, and every command acts as that person', async () => {
    const wrong = await cli(['login', '--email', 'cli@example.org', '--password-stdin'], 'not the password\n');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/wrong e-mail address or password/);

    const done = await cli(['login', '--email', 'cli@example.org', '--password-stdin', '--project', projectId], `${PASSWORD}\n`);
    expect(done.err).toBe('');
    expect(done.code).toBe(0);
    expect(done.out).toMatch(new RegExp(`as cli@example.org on project ${projectId}`));
    const file = path.join(home, 'config', 'c2pa-mesh', 'credentials.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(await readFile(file, 'utf8')).logins[listener.url];
    expect(stored).toMatchObject({ email: 'cli@example.org', projectId, refreshToken: expect.stringMatching(/^c2mr_/) });

    // No admin certificate exists here (MESH_DATA_DIR is empty): the stored login is what is used.
    const projects = await cli(['projects', 'list', '--json']);
    expect(projects.err).toBe('');
    expect(JSON.parse(projects.out).map((p: { projectId: string }) => p.projectId)).toEqual([projectId]);

    // An expired access token is refreshed (and the new tokens saved) before the call.
    await writeFile(file, JSON.stringify({ logins: { [listener.url]: { ...stored, accessTokenExpiresAt: new Date(0).toISOString() } } }), { mode: 0o600 });
    const key = await cli(['keys', 'create', '--name', 'from the cli', '--scope', 'verify', '--json']);
    expect(key.err).toBe('');
    expect(JSON.parse(key.out).key).toMatch(/^c2m_/);
    const refreshed = JSON.parse(await readFile(file, 'utf8')).logins[listener.url];
    expect(refreshed.refreshToken).not.toBe(stored.refreshToken);
    expect(Date.parse(refreshed.accessTokenExpiresAt)).toBeGreaterThan(Date.now());
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const out = await cli(['logout']);
    expect(out.code).toBe(0);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    // The session ended at the mesh too: its refresh token no longer works.
    const accounts = createClient(AccountService, mesh.transport());
    await expect(accounts.refresh({ refreshToken: refreshed.refreshToken })).rejects.toThrow(/session has ended/);
  });

  it('logs in without a password: prints a URL and a code, and polls until a signed-in person approves it', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c) => (out += c));
    stderr.on('data', (c) => (err += c));
    const env = { HOME: home, XDG_CONFIG_HOME: path.join(home, 'config'), MESH_DATA_DIR: path.join(home, 'no-data-dir') };
    const running = runCli(['node', 'c2pa-mesh', 'login', '--url', listener.url, '--ca', caFile], { stdout, stderr, env, cwd: home, stdin: Readable.from([]) });
    let shown: RegExpExecArray | null = null;
    for (let i = 0; i < 200 && !shown; i++) {
      shown = /open (https:\/\/\S+) in a browser[\s\S]*?\n\s+([B-Z]{4}-[B-Z]{4})\n/.exec(err);
      if (!shown) await new Promise((r) => setTimeout(r, 25));
    }
    expect(shown, err).not.toBeNull();
    expect(shown![1]).toBe(`${listener.url}/device`);
    // Not yet approved: still waiting after a poll or two.
    await new Promise((r) => setTimeout(r, 1500));
    expect(out).toBe('');

    // The person approves the code over HTTP, signed in with their own access token.
    const agent = new Agent({ connect: { ca: mesh.pki.meshCa.pem } });
    try {
      const approve = await fetch(`${listener.url}/c2pamesh.account.v1.AccountService/ApproveDeviceLogin`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${personToken}` },
        body: JSON.stringify({ userCode: shown![2] }),
      });
      expect(approve.status).toBe(200);
      expect(((await approve.json()) as { clientName: string }).clientName).toMatch(/^c2pa-mesh CLI on /);
    } finally {
      await agent.close();
    }
    expect(await running).toBe(0);
    expect(out).toMatch(/logged in to .* as cli@example.org/);
    const file = path.join(home, 'config', 'c2pa-mesh', 'credentials.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(file, 'utf8')).logins[listener.url];
    expect(stored).toMatchObject({ email: 'cli@example.org', refreshToken: expect.stringMatching(/^c2mr_/) });
    // The stored login acts as the person.
    const accounts = createClient(AccountService, mesh.transport());
    expect((await accounts.getCurrentUser({}, { headers: { authorization: `Bearer ${stored.accessToken}` } })).user!.email).toBe('cli@example.org');
    expect((await cli(['logout'])).code).toBe(0);
  }, 30_000);
});
