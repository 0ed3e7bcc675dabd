/**
 * Verimago's API under `/verimago/v1/` with its reference's own example requests, through the
 * real TLS listener: accounts with codes read from a real SMTP server, API keys, hash signing and
 * lookups, verify/url against a local file server, certificates, OCSP and the TSA (judged by
 * openssl), CORS and rate limits.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createClient } from '@connectrpc/connect';
import { ADMIN_IDENTITY, createTestMesh, startTestListener, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { AccountService, CertificateAuthorityService } from '@c2pa-mesh/proto';
import type { RunningListener } from '@c2pa-mesh/server';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../../../test/support/cleanup.js';
import { startSmtpMailbox, type SmtpMailbox } from '../../../test/support/smtp-mailbox.js';
import { verimagoSettingsFromEnv } from './verimago-http.js';

const run = promisify(execFile);
const MEDIA = path.resolve(import.meta.dirname, '../../../test/fixtures/media');
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
/** The reference's example: the SHA-256 of the empty file. */
const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const SIGN_EXAMPLE = {
  contentHash: EMPTY_SHA256,
  headline: 'Breaking: City council vote',
  journalist: 'Jane Smith',
  location: 'Portland, OR',
  recordedAt: '2026-03-28T14:30:00Z',
  contentType: 'AUTHENTIC',
  captureMode: 'VIDEO',
  tags: ['politics', 'local'],
};
/** verify/url's size limit for this test (MESH_VERIMAGO_URL_MAX_BYTES), to refuse a large file quickly. */
const URL_MAX_BYTES = 3 * 1024 * 1024;

let mesh: TestMesh;
let listener: RunningListener;
let agent: Agent;
let mailbox: SmtpMailbox;
let files: http.Server;
let filesUrl: string;
let scratch: string;
const bigFile = randomBytes(2 * 1024 * 1024 + 17);
const savedEnv = { ...process.env };

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'verimago-api-'));
  mailbox = await startSmtpMailbox();
  // A file server on loopback for verify/url, which the fetcher may reach only when told so.
  files = http.createServer((req, res) => {
    if (req.url === '/video.mp4') return res.end();
    if (req.url === '/big.bin') {
      // Chunked, no Content-Length: the limit must hold while reading.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let offset = 0; offset < bigFile.length; offset += 64 * 1024) res.write(bigFile.subarray(offset, offset + 64 * 1024));
      return res.end();
    }
    if (req.url === '/huge.bin') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(256 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < URL_MAX_BYTES * 2 && res.write(chunk)) sent += chunk.length;
        if (sent < URL_MAX_BYTES * 2) res.once('drain', pump);
        else res.end();
      };
      res.on('error', () => undefined);
      return pump();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  Object.assign(process.env, { MESH_VERIFY_URL_ALLOW_HOSTS: '127.0.0.1', MESH_VERIFY_URL_ALLOW_HTTP: '1', MESH_VERIMAGO_URL_MAX_BYTES: String(URL_MAX_BYTES) });
  mesh = await createTestMesh({ MESH_SMTP_URL: mailbox.url, MESH_MAIL_FROM: 'Verimago <accounts@mesh.test>' });
  ({ listener } = await startTestListener(mesh, { fallback: mesh.gateway }));
  agent = new Agent({ connect: { ca: mesh.pki.meshCa.pem } });
  await writeFile(path.join(scratch, 'issuer.pem'), mesh.pki.c2paIntermediate.pem);
  await writeFile(path.join(scratch, 'root.pem'), mesh.pki.c2paRoot.pem);
}, 120_000);

afterAll(async () => {
  process.env = savedEnv;
  await cleanUp({
    agent: () => agent?.close(),
    listener: () => listener?.close(0),
    mesh: () => mesh?.close(),
    smtp: () => mailbox?.close(),
    files: () => new Promise<void>((resolve) => (files ? files.close(() => resolve()) : resolve())),
    scratch: () => rm(scratch, { recursive: true, force: true }),
  });
});

interface Answer {
  status: number;
  json: Record<string, any>;
  headers: Headers;
}

/** One call to Verimago's API, as its reference shows it, with the mesh as the base URL. */
async function verimago(method: string, pathname: string, options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const res = await fetch(`${listener.url}/verimago/v1/${pathname}`, {
    method,
    dispatcher: agent,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : JSON.parse(text), headers: res.headers as unknown as Headers };
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const EMAIL = 'user@example.com';

describe(`Verimago under /verimago/v1/ on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let token: string;
  let apiKey: string;
  let keyId: string;
  let certificateId: string;

  it('registers, verifies the address, resets the password and logs in with the reference\'s bodies', async () => {
    const registered = await verimago('POST', 'auth/register', { body: { email: EMAIL, password: 'min-8-characters', name: 'Jane Smith' } });
    expect(registered.status).toBe(201);
    expect(registered.json).toEqual({ message: 'Verification email sent', userId: expect.stringMatching(/^usr_/) });
    expect(JSON.stringify(registered.json)).not.toMatch(/argon2/);

    const early = await verimago('POST', 'auth/login', { body: { email: EMAIL, password: 'min-8-characters' } });
    expect(early.status).toBe(400);
    expect(early.json.error).toMatch(/verify your e-mail address/);

    const wrongCode = await verimago('POST', 'auth/verify-email', { body: { email: EMAIL, code: '123456' } });
    expect(wrongCode.status).toBe(400);
    const code = await mailbox.codeFor(EMAIL, 'verification');
    const verified = await verimago('POST', 'auth/verify-email', { body: { email: EMAIL, code } });
    expect(verified.status).toBe(200);

    const before = mailbox.mails.length;
    expect((await verimago('POST', 'auth/forgot-password', { body: { email: EMAIL } })).status).toBe(200);
    // The same answer for an address nobody registered.
    expect((await verimago('POST', 'auth/forgot-password', { body: { email: 'nobody@example.com' } })).status).toBe(200);
    const resetCode = await mailbox.codeFor(EMAIL, 'password reset', before);
    const reset = await verimago('POST', 'auth/reset-password', { body: { email: EMAIL, code: resetCode, newPassword: 'new-password' } });
    expect(reset.status).toBe(200);

    const old = await verimago('POST', 'auth/login', { body: { email: EMAIL, password: 'min-8-characters' } });
    expect(old.status).toBe(401);
    expect(old.json.error).toBe('wrong e-mail address or password');
    const login = await verimago('POST', 'auth/login', { body: { email: EMAIL, password: 'new-password' } });
    expect(login.status).toBe(200);
    expect(login.json).toMatchObject({ token: expect.stringMatching(/^eyJ/), user: { email: EMAIL, role: 'user' }, projectId: null });
    expect(JSON.stringify(login.json)).not.toMatch(/argon2|\$[a-z0-9]+\$/i);

    // In no organization yet: the person can do nothing on "their account".
    const keys = await verimago('GET', 'keys', { token: login.json.token });
    expect(keys.status).toBe(403);
    expect(keys.json.error).toMatch(/no organization/);

    // An organization with a project (what an approved application makes); the next login acts for it.
    const accounts = createClient(AccountService, mesh.transport());
    const org = (await accounts.createOrganization({ name: 'Portland Herald' }, bearer(login.json.token))).organization!;
    await accounts.createOrganizationProject({ organizationId: org.organizationId, name: 'Herald newsroom' }, bearer(login.json.token));
    const again = await verimago('POST', 'auth/login', { body: { email: EMAIL, password: 'new-password' } });
    expect(again.json).toMatchObject({ user: { email: EMAIL, role: 'owner' }, organizationId: org.organizationId, projectId: expect.stringMatching(/^prj_/) });
    token = again.json.token;
  });

  it('makes, lists and revokes API keys; the key signs and the public lookup finds the hash', async () => {
    const created = await verimago('POST', 'keys', { token, body: { name: 'CMS Production' } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: expect.any(String), name: 'CMS Production', apiKey: expect.stringMatching(/^c2m_/), keyPrefix: expect.any(String) });
    expect(created.json.apiKey.startsWith(created.json.keyPrefix)).toBe(true);
    ({ apiKey, id: keyId } = created.json);

    const listed = await verimago('GET', 'keys', { token });
    expect(listed.status).toBe(200);
    expect(listed.json).toEqual({ total: 1, items: [{ id: keyId, name: 'CMS Production', keyPrefix: created.json.keyPrefix, createdAt: expect.stringMatching(ISO), lastUsedAt: null }] });
    expect(JSON.stringify(listed.json)).not.toContain(apiKey);

    const signed = await verimago('POST', 'sign', { token: apiKey, body: SIGN_EXAMPLE });
    expect(signed.status).toBe(201);
    expect(signed.json).toMatchObject({
      contentHash: EMPTY_SHA256,
      signature: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
      shieldState: 'GREEN',
      signedAt: expect.stringMatching(ISO),
      verifyUrl: `${listener.url}/verimago/v1/verify/${EMPTY_SHA256}`,
    });
    const aiHash = `sha256:${createHash('sha256').update('ai').digest('hex')}`;
    expect((await verimago('POST', 'sign', { token, body: { ...SIGN_EXAMPLE, contentHash: aiHash, contentType: 'AI_GENERATED' } })).json.shieldState).toBe('AMBER');

    const found = await verimago('GET', `verify/${EMPTY_SHA256}`);
    expect(found.status).toBe(200);
    expect(found.json).toMatchObject({ verified: true, shieldState: 'GREEN', journalist: 'Jane Smith', headline: 'Breaking: City council vote', contentType: 'AUTHENTIC', certStatus: 'ACTIVE' });
    const missing = await verimago('GET', `verify/sha256:${'0'.repeat(64)}`);
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ verified: false, shieldState: 'GREY' });

    // Revocation is immediate: the very next request with the key fails.
    const revoked = await verimago('POST', `keys/${keyId}/revoke`, { token });
    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ id: keyId, revoked: true, revokedAt: expect.stringMatching(ISO) });
    const refused = await verimago('POST', 'sign', { token: apiKey, body: SIGN_EXAMPLE });
    expect(refused.status).toBe(401);
    expect(refused.json.error).toMatch(/revoked/);
    expect((await verimago('GET', 'keys', { token })).json.total).toBe(0);
    // A key cannot make keys: that is for the people who log in.
    apiKey = (await verimago('POST', 'keys', { token, body: { name: 'Camera app' } })).json.apiKey;
    expect((await verimago('POST', 'keys', { token: apiKey, body: { name: 'x' } })).status).toBe(403);
  });

  it('serves MirrorStage under /mirrorstage/v1/: the reference\'s curl commands, only the base URL changed', async () => {
    const base = `${listener.url}/mirrorstage/v1`;
    const curl = (args: string[]) => run('curl', ['--silent', '--show-error', '--fail-with-body', '--cacert', path.join(scratch, 'mesh-ca.pem'), ...args], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
    await writeFile(path.join(scratch, 'mesh-ca.pem'), mesh.pki.meshCa.pem);
    await writeFile(path.join(scratch, 'my-image.jpg'), await readFile(path.join(MEDIA, 'no_manifest.jpg')));
    const health = JSON.parse((await curl([`${base}/health`])).stdout.toString());
    expect(health.status).toBe('ok');
    // Warming every engine worker costs seconds here; that the path is routed is what this shows.
    const warmup = await fetch(`${base}/warmup`, { dispatcher: agent });
    expect(warmup.status).toBe(405);
    expect(warmup.headers.get('allow')).toBe('POST');
    await curl([
      '-X', 'POST', `${base}/sign`, '-H', `Authorization: Bearer ${apiKey}`,
      '-F', `file=@${path.join(scratch, 'my-image.jpg')}`,
      '-F', 'manifest={"claim_generator":"MirrorStage/1.0","title":"My Image","assertions":[{"label":"c2pa.actions","data":{"actions":[{"action":"c2pa.created","digitalSourceType":"http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"}]}}]}',
      '-F', 'format=image/jpeg',
      '--output', path.join(scratch, 'my-image-signed.jpg'),
    ]);
    const verified = JSON.parse(
      (await curl(['-X', 'POST', `${base}/verify`, '-H', `Authorization: Bearer ${apiKey}`, '-H', 'Content-Type: application/octet-stream', '--data-binary', `@${path.join(scratch, 'my-image-signed.jpg')}`])).stdout.toString(),
    );
    expect(verified).toMatchObject({ valid: true, manifest: expect.any(Object), validation_errors: [] });
    // The unprefixed paths stay as they were.
    const unprefixed = await fetch(`${listener.url}/v1/health`, { dispatcher: agent });
    expect(unprefixed.status).toBe(200);
  });

  it('verify/url fetches, hashes while streaming and looks the file up; too large is refused', async () => {
    const found = await verimago('POST', 'verify/url', { body: { url: `${filesUrl}/video.mp4` } });
    expect(found.status).toBe(200);
    expect(found.json).toMatchObject({ verified: true, shieldState: 'GREEN', contentHash: EMPTY_SHA256, sizeBytes: 0 });

    const big = await verimago('POST', 'verify/url', { body: { url: `${filesUrl}/big.bin` } });
    expect(big.status).toBe(404);
    expect(big.json).toMatchObject({ verified: false, shieldState: 'GREY', contentHash: `sha256:${createHash('sha256').update(bigFile).digest('hex')}`, sizeBytes: bigFile.length });

    const huge = await verimago('POST', 'verify/url', { body: { url: `${filesUrl}/huge.bin` } });
    expect(huge.status).toBe(413);
    expect(huge.json.error).toMatch(new RegExp(`more than ${URL_MAX_BYTES} bytes`));

    const inside = await verimago('POST', 'verify/url', { body: { url: 'http://10.0.0.1/video.mp4' } });
    expect(inside.status).toBe(400);
    expect(inside.json.error).toMatch(/public addresses/);
    expect((await verimago('POST', 'verify/url', { body: {} })).json).toEqual({ error: 'missing field "url"', request_id: expect.any(String) });
  });

  it('lists certificates (PENDING ones too), shows one with its public key, revokes it, and OCSP says so', async () => {
    // A signing certificate waiting for activation, as onboarding issues them.
    const ca = createClient(CertificateAuthorityService, mesh.transport());
    const issued = await ca.issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'Portland Herald Signer', requireActivation: true }, bearer(token));
    certificateId = issued.certificate!.certificateId;

    const listed = await verimago('GET', 'certs', { token });
    expect(listed.status).toBe(200);
    expect(listed.json.items).toEqual([expect.objectContaining({ id: certificateId, status: 'PENDING', expiresAt: expect.stringMatching(ISO), commonName: 'Portland Herald Signer' })]);

    const one = await verimago('GET', `certs/${certificateId}`, { token: apiKey });
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ id: certificateId, status: 'PENDING', expiresAt: issued.certificate!.notAfter });
    // openssl, reading the certificate on its own, finds the same public key.
    await writeFile(path.join(scratch, 'cert.pem'), one.json.certificatePem);
    const { stdout: opensslKey } = await run('openssl', ['x509', '-in', path.join(scratch, 'cert.pem'), '-pubkey', '-noout']);
    expect(one.json.publicKey.trim()).toBe(opensslKey.trim());

    // Another project's certificate (the mesh-wide default signer) is not found.
    const admin = createClient(CertificateAuthorityService, mesh.transport(ADMIN_IDENTITY));
    const meshWide = (await admin.listCertificates({ profile: 'C2PA_SIGNING' })).certificates.find((c) => c.isDefaultSigner)!;
    expect((await verimago('GET', `certs/${meshWide.certificateId}`, { token })).status).toBe(404);

    // Not yet activated: OCSP does not vouch for it.
    const pending = await verimago('GET', `ocsp/${certificateId}`);
    expect(pending.json).toMatchObject({ certId: certificateId, serialNumber: issued.certificate!.serialNumber });
    expect(pending.json.status).not.toBe('GOOD');

    const revoked = await verimago('PATCH', `certs/${certificateId}/revoke`, { token, body: { reason: 'keyCompromise' } });
    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ id: certificateId, status: 'REVOKED', revokedAt: expect.stringMatching(ISO), revocationReason: 1 });

    const ocsp = await verimago('GET', `ocsp/${certificateId}`);
    expect(ocsp.json).toMatchObject({ status: 'REVOKED', revocationReason: 1 });
    const der = await fetch(`${listener.url}/verimago/v1/ocsp/${certificateId}`, { dispatcher: agent, headers: { accept: 'application/ocsp-response' } });
    expect(der.headers.get('content-type')).toBe('application/ocsp-response');
    await writeFile(path.join(scratch, 'ocsp.der'), Buffer.from(await der.arrayBuffer()));
    const { stdout: ocspText } = await run('openssl', ['ocsp', '-respin', path.join(scratch, 'ocsp.der'), '-issuer', path.join(scratch, 'issuer.pem'), '-cert', path.join(scratch, 'cert.pem'), '-CAfile', path.join(scratch, 'root.pem'), '-verify_other', path.join(scratch, 'issuer.pem')]).catch((e) => {
      throw new Error(`${e.stderr} ${e.stdout}`);
    });
    expect(ocspText).toMatch(/: revoked/);

    expect((await verimago('GET', 'ocsp/status')).json).toMatchObject({ status: 'ok' });
  });

  it('time-stamps an RFC 3161 query that openssl ts -verify accepts', async () => {
    expect((await verimago('GET', 'tsa/status')).json).toMatchObject({ status: 'ok', genTime: expect.stringMatching(ISO) });
    const data = path.join(scratch, 'capture.bin');
    await writeFile(data, randomBytes(1000));
    await run('openssl', ['ts', '-query', '-data', data, '-sha256', '-cert', '-out', path.join(scratch, 'query.tsq')]);
    const res = await fetch(`${listener.url}/verimago/v1/tsa`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/timestamp-query' },
      body: await readFile(path.join(scratch, 'query.tsq')),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/timestamp-reply');
    await writeFile(path.join(scratch, 'reply.tsr'), Buffer.from(await res.arrayBuffer()));
    const { stdout } = await run('openssl', [
      'ts', '-verify', '-in', path.join(scratch, 'reply.tsr'), '-queryfile', path.join(scratch, 'query.tsq'),
      '-CAfile', path.join(scratch, 'root.pem'), '-untrusted', path.join(scratch, 'issuer.pem'),
    ]);
    expect(stdout).toMatch(/Verification: OK/);
    const empty = await fetch(`${listener.url}/verimago/v1/tsa`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/timestamp-query' }, body: '' });
    expect(empty.status).toBe(400);
  });

  it('answers errors as {error}, and CORS for any origin', async () => {
    const bad = await fetch(`${listener.url}/verimago/v1/sign`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{not json' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/not valid JSON/);
    const noHeadline = await verimago('POST', 'sign', { token, body: { contentHash: EMPTY_SHA256 } });
    expect(noHeadline.json.error).toMatch(/missing field "headline"/);
    const anonymous = await verimago('GET', 'keys');
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error).toMatch(/Bearer/);

    const preflight = await fetch(`${listener.url}/verimago/v1/certs/x/revoke`, {
      method: 'OPTIONS',
      dispatcher: agent,
      headers: { origin: 'https://newsroom.example', 'access-control-request-method': 'PATCH' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://newsroom.example');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PATCH');
    const lookup = await verimago('GET', `verify/${EMPTY_SHA256}`, { headers: { origin: 'https://anyone.example' } });
    expect(lookup.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('limits verify/url to 10 a minute per address, with 429 and Retry-After', async () => {
    let admitted = 0;
    let refusal: Answer | undefined;
    for (let i = 0; i < 30 && !refusal; i++) {
      const answer = await verimago('POST', 'verify/url', { body: { url: `${filesUrl}/video.mp4` } });
      if (answer.status === 429) refusal = answer;
      else admitted++;
    }
    // Five calls came before this one; the sliding minute may weigh a previous window lightly.
    expect(refusal).toBeDefined();
    expect(admitted + 5).toBeGreaterThanOrEqual(10);
    expect(admitted + 5).toBeLessThanOrEqual(20);
    expect(refusal!.json.error).toMatch(/10 requests per minute/);
    expect(Number(refusal!.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('Verimago settings', () => {
  it('reads verify/url limits from the environment and names a bad variable', () => {
    expect(verimagoSettingsFromEnv({})).toEqual({ urlMaxBytes: undefined, urlTimeoutMs: undefined });
    expect(verimagoSettingsFromEnv({ MESH_VERIMAGO_URL_MAX_BYTES: '1048576', MESH_VERIMAGO_URL_TIMEOUT_MS: '5000' })).toEqual({ urlMaxBytes: 1048576, urlTimeoutMs: 5000 });
    expect(() => verimagoSettingsFromEnv({ MESH_VERIMAGO_URL_MAX_BYTES: '500MB' })).toThrow(/MESH_VERIMAGO_URL_MAX_BYTES/);
    expect(() => verimagoSettingsFromEnv({ MESH_VERIMAGO_URL_TIMEOUT_MS: '0' })).toThrow(/MESH_VERIMAGO_URL_TIMEOUT_MS/);
  });
});
