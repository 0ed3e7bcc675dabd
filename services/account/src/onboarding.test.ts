/**
 * Onboarding through the real stack: Verimago's `/verimago/v1/apply` and certificate activation
 * over the TLS listener's gateway, OnboardingService and the other RPCs as Connect JSON, the
 * admin by its client certificate, mail through a real SMTP server started here. Approval makes
 * the organization, invites its contact and issues a PENDING certificate that signs nothing until
 * the organization's owner activates it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestMesh, startTestListener, type TestMesh } from '@c2pa-mesh/mesh/testing';
import type { RunningListener } from '@c2pa-mesh/server';
import { SMTPServer } from 'smtp-server';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, removeDir } from '../../../test/support/cleanup.js';

const MEDIA = path.resolve(import.meta.dirname, '../../../test/fixtures/media');
const PASSWORD = 'correct horse battery staple';
const run = promisify(execFile);

/** Verimago's own example request. */
const PORTLAND = {
  organizationName: 'Portland Herald',
  contactEmail: 'editor@portlandherald.com',
  contactName: 'Jane Smith',
  domain: 'portlandherald.com',
  jurisdiction: 'US-OR',
  description: 'Daily newspaper covering Portland metro area, 50,000 daily readers',
};

let mesh: TestMesh;
let listener: RunningListener;
let smtp: SMTPServer;
let agent: Agent;
let adminAgent: Agent;
let scratch: string;
const mailbox: { to: string[]; raw: string }[] = [];

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
  mesh = await createTestMesh({ MESH_SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`, MESH_MAIL_FROM: 'Mesh <onboarding@mesh.test>' });
  const started = await startTestListener(mesh, { fallback: mesh.gateway });
  listener = started.listener;
  agent = new Agent({ connect: { ca: mesh.pki.meshCa.pem } });
  adminAgent = new Agent({ connect: started.adminTls });
  scratch = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-onboarding-'));
}, 120_000);

afterAll(async () => {
  await cleanUp({
    agent: () => agent?.close(),
    adminAgent: () => adminAgent?.close(),
    listener: () => listener?.close(0),
    mesh: () => mesh?.close(),
    smtp: () => new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve())),
    scratch: () => removeDir(scratch),
  });
});

interface Answer {
  status: number;
  body: Record<string, any>;
}

async function http(method: string, urlPath: string, options: { body?: unknown; raw?: string; token?: string; admin?: boolean } = {}): Promise<Answer> {
  const res = await fetch(`${listener.url}${urlPath}`, {
    method,
    dispatcher: options.admin ? adminAgent : agent,
    headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
    ...(options.raw !== undefined ? { body: options.raw } : options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : JSON.parse(text) };
}

/** One Connect JSON call. */
const rpc = (service: string, method: string, body: object, options: { token?: string; admin?: boolean } = {}) =>
  http('POST', `/c2pamesh.${service}/${method}`, { body, ...options });
const onboarding = (method: string, body: object, options: { token?: string; admin?: boolean } = {}) => rpc('onboarding.v1.OnboardingService', method, body, options);
const accounts = (method: string, body: object, token?: string) => rpc('account.v1.AccountService', method, body, token ? { token } : {});

async function mailTo(email: string, subject: RegExp, after: number): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const mail = mailbox.slice(after).find((m) => m.to.includes(email) && subject.test(m.raw));
    if (mail) return mail.raw;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no mail matching ${subject} reached ${email}`);
}

async function signJpeg(signerId: string, projectId: string, options: { token?: string; admin?: boolean }): Promise<Answer> {
  const asset = (await readFile(path.join(MEDIA, 'no_manifest.jpg'))).toString('base64');
  const manifestJson = JSON.stringify({ title: 'onboarded.jpg', assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture' }] } }] });
  return rpc('signing.v1.SigningService', 'Sign', { asset, format: 'image/jpeg', manifestJson, signerId, projectId }, options);
}

/** The status openssl reads from the CA's signed OCSP response (an independent judge). */
async function opensslOcspStatus(certificateId: string): Promise<string> {
  const status = await rpc('certificateauthority.v1.CertificateAuthorityService', 'CheckStatus', { certificateId }, { admin: true });
  expect(status.status).toBe(200);
  const file = path.join(scratch, `${certificateId}.ocsp`);
  await writeFile(file, Buffer.from(status.body.ocspResponse, 'base64'));
  const { stdout } = await run('openssl', ['ocsp', '-respin', file, '-resp_text', '-noverify']);
  return stdout;
}

describe(`onboarding over TLS with a real SMTP server on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let publisherId = '';
  let creatorId = '';

  it("takes Verimago's example application without credentials and shows its status by id", async () => {
    const applied = await http('POST', '/verimago/v1/apply', { body: PORTLAND });
    expect(applied.status).toBe(201);
    expect(applied.body).toEqual({ id: expect.stringMatching(/^app_/), status: 'PENDING', message: 'Application received. You will be contacted within 48 hours.' });
    publisherId = applied.body.id;

    const status = await http('GET', `/verimago/v1/apply/${publisherId}`);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ id: publisherId, status: 'PENDING', type: 'publisher', organizationName: 'Portland Herald', reviewedAt: null, reason: null });
    // The receipt shows the outcome, not the contact's personal data.
    expect(JSON.stringify(status.body)).not.toContain('editor@portlandherald.com');
    expect(JSON.stringify(status.body)).not.toContain('Jane Smith');

    // A creator omits domain and organizationName.
    const creator = await http('POST', '/verimago/v1/apply', { body: { contactEmail: 'sam@creator.example', contactName: 'Sam Lee', description: 'Documentary photographer' } });
    expect(creator.status).toBe(201);
    creatorId = creator.body.id;
    expect((await http('GET', `/verimago/v1/apply/${creatorId}`)).body).toMatchObject({ status: 'PENDING', type: 'creator', organizationName: null });
  });

  it('refuses bad applications with a message a person can act on, as {error}', async () => {
    const cases: [unknown, RegExp][] = [
      [{ ...PORTLAND, domain: '' }, /domain is required for a publisher/],
      [{ contactEmail: 'a@b.example', contactName: 'A', domain: 'b.example' }, /organization_name is required with a domain/],
      [{ ...PORTLAND, contactEmail: 'not an address' }, /is not an e-mail address/],
      [{ ...PORTLAND, contactName: '' }, /contact_name is required/],
      [{ ...PORTLAND, jurisdiction: 'Oregon' }, /ISO 3166/],
      [{ ...PORTLAND, domain: 'http://portlandherald.com/' }, /not a DNS name/],
      [{ ...PORTLAND, contactName: 42 }, /"contactName" must be a string/],
      [[PORTLAND], /must be a JSON object/],
    ];
    for (const [body, message] of cases) {
      const answer = await http('POST', '/verimago/v1/apply', { body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error).toMatch(message);
    }
    expect((await http('POST', '/verimago/v1/apply', { raw: '{"contactEmail":' })).body.error).toMatch(/not valid JSON/);
    const unknown = await http('GET', '/verimago/v1/apply/app_nothing');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/no application app_nothing/);
  });

  it('lets only a mesh-wide admin list and review applications', async () => {
    expect((await onboarding('ListApplications', {})).body.code).toBe('unauthenticated');
    // An API key with the admin scope is tied to its project: applications are the mesh's.
    const project = await rpc('registry.v1.RegistryService', 'CreateProject', { name: 'Someone else' }, { admin: true });
    const key = await rpc('registry.v1.RegistryService', 'CreateApiKey', { projectId: project.body.projectId, name: 'project admin', scopes: ['admin'] }, { admin: true });
    const refused = await onboarding('ListApplications', {}, { token: key.body.key });
    expect(refused.body.code).toBe('permission_denied');
    expect((await onboarding('ReviewApplication', { applicationId: publisherId, decision: 'APPROVE' }, { token: key.body.key })).body.code).toBe('permission_denied');

    const listed = await onboarding('ListApplications', { status: 'PENDING' }, { admin: true });
    expect(listed.status).toBe(200);
    expect(listed.body.applications.map((a: { applicationId: string }) => a.applicationId)).toEqual([creatorId, publisherId]);
    expect(listed.body.applications[1]).toMatchObject({ kind: 'PUBLISHER', contactEmail: 'editor@portlandherald.com', domain: 'portlandherald.com', jurisdiction: 'US-OR' });
    const firstPage = await onboarding('ListApplications', { pageSize: 1 }, { admin: true });
    const secondPage = await onboarding('ListApplications', { pageSize: 1, pageToken: firstPage.body.nextPageToken }, { admin: true });
    expect([firstPage.body.applications[0].applicationId, secondPage.body.applications[0].applicationId]).toEqual([creatorId, publisherId]);
  });

  it('rejects with a reason the applicant reads and is mailed', async () => {
    const noReason = await onboarding('ReviewApplication', { applicationId: creatorId, decision: 'REJECT' }, { admin: true });
    expect(noReason.body).toMatchObject({ code: 'invalid_argument', message: 'reason is required' });
    expect((await onboarding('ReviewApplication', { applicationId: creatorId, decision: 'MAYBE' }, { admin: true })).body.code).toBe('invalid_argument');
    const before = mailbox.length;
    const rejected = await onboarding('ReviewApplication', { applicationId: creatorId, decision: 'REJECT', reason: 'No portfolio was given' }, { admin: true });
    expect(rejected.status).toBe(200);
    expect(rejected.body.application).toMatchObject({ status: 'REJECTED', reason: 'No portfolio was given', reviewedBy: 'spiffe://c2pa-mesh/admin' });
    expect(await mailTo('sam@creator.example', /No portfolio was given/, before)).toContain(creatorId);
    expect((await http('GET', `/verimago/v1/apply/${creatorId}`)).body).toMatchObject({ status: 'REJECTED', reason: 'No portfolio was given' });
    const again = await onboarding('ReviewApplication', { applicationId: creatorId, decision: 'APPROVE' }, { admin: true });
    expect(again.body).toMatchObject({ code: 'failed_precondition', message: expect.stringMatching(/is REJECTED already/) });
  });

  it('approves: the organization exists, its contact is invited by mail, its certificate is PENDING and cannot sign; the owner activates it and signs', async () => {
    const before = mailbox.length;
    const approved = await onboarding('ReviewApplication', { applicationId: publisherId, decision: 'APPROVE' }, { admin: true });
    expect(approved.status).toBe(200);
    const app = approved.body.application;
    expect(app).toMatchObject({ status: 'APPROVED', organizationId: expect.stringMatching(/^org_/), projectId: expect.stringMatching(/^prj_/), certificateId: expect.any(String) });
    expect(Date.parse(approved.body.invitationExpiresAt)).toBeGreaterThan(Date.now());
    expect((await http('GET', `/verimago/v1/apply/${publisherId}`)).body.status).toBe('APPROVED');
    expect((await onboarding('ReviewApplication', { applicationId: publisherId, decision: 'APPROVE' }, { admin: true })).body.code).toBe('failed_precondition');

    const invitation = await mailTo('editor@portlandherald.com', /^Subject: Your c2pa-mesh application is approved/m, before);
    const token = /(c2mi_[A-Za-z0-9_-]+)/.exec(invitation)![1];

    // PENDING: issued to the organization's project, not usable.
    const cert = await rpc('certificateauthority.v1.CertificateAuthorityService', 'GetCertificate', { certificateId: app.certificateId }, { admin: true });
    expect(cert.body.certificate).toMatchObject({ status: 'PENDING', profile: 'C2PA_SIGNING', projectId: app.projectId, commonName: 'Portland Herald', keyHeldByCa: true });
    const pendingSign = await signJpeg(app.certificateId, app.projectId, { admin: true });
    expect(pendingSign.status).toBe(400);
    expect(pendingSign.body).toMatchObject({ code: 'failed_precondition', message: expect.stringMatching(/waiting for activation/) });
    // Relying parties see it on hold (RFC 6960 2.2): revoked, reason certificateHold.
    expect(await opensslOcspStatus(app.certificateId)).toMatch(/Cert Status: revoked[\s\S]*Reason: certificateHold/);

    // The contact signs up with the invited address and accepts as owner.
    const email = PORTLAND.contactEmail;
    const registeredAt = mailbox.length;
    expect((await accounts('Register', { email, password: PASSWORD, displayName: 'Jane Smith' })).status).toBe(200);
    const code = /^Subject: Your c2pa-mesh verification code: (\d{6})/m.exec(await mailTo(email, /verification code/, registeredAt))![1];
    expect((await accounts('VerifyEmail', { email, code })).status).toBe(200);
    const plain = (await accounts('Login', { email, password: PASSWORD })).body.tokens.accessToken;
    const accepted = await accounts('AcceptInvitation', { token }, plain);
    expect(accepted.body.organization).toMatchObject({ organizationId: app.organizationId, role: 'owner', name: 'Portland Herald', projectIds: [app.projectId] });

    // Without a project the token carries no scope; an outsider's project is not theirs.
    const refused = await http('PATCH', `/verimago/v1/certs/${app.certificateId}/activate`, { token: plain });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBeTruthy();
    const owner = (await accounts('Login', { email, password: PASSWORD, projectId: app.projectId })).body.tokens.accessToken;
    const activated = await http('PATCH', `/verimago/v1/certs/${app.certificateId}/activate`, { token: owner });
    expect(activated.status).toBe(200);
    expect(activated.body).toMatchObject({ id: app.certificateId, status: 'ACTIVE', name: 'Portland Herald' });
    const twice = await http('PATCH', `/verimago/v1/certs/${app.certificateId}/activate`, { token: owner });
    expect(twice.status).toBe(400);
    expect(twice.body.error).toMatch(/is ACTIVE; only PENDING certificates can be activated/);
    expect((await http('PATCH', '/verimago/v1/certs/cert_none/activate', { token: owner })).status).toBe(404);

    // Active: it signs for its organization, and OCSP says good.
    const signed = await signJpeg(app.certificateId, '', { token: owner });
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    expect(signed.body.signedAsset.length).toBeGreaterThan(1000);
    expect(await opensslOcspStatus(app.certificateId)).toMatch(/Cert Status: good/);
  });
});
