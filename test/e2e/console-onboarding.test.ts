import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import axe from 'axe-core';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, removeDir } from '../support/cleanup.js';
import { lockRootNetwork } from '../support/root-network-lock.js';
import { FIXTURES, REPO_ROOT, startMeshProcess, type MeshProcess } from '../support/start-mesh.js';

/**
 * Onboarding end to end, against the mesh as `npm start` runs it, mail going to a real SMTP
 * server started here: a publisher applies with Verimago's example request (curl), the admin
 * approves it in the console (Debian's chromium via playwright-core), the invitation arrives by
 * mail, the certificate shows PENDING; the contact signs up, accepts, activates the certificate
 * through Verimago's PATCH and signs with it (curl). `UPDATE_SCREENSHOTS=1` writes
 * docs/console-onboarding.png.
 */

const CHROMIUM = '/usr/bin/chromium';
const run = promisify(execFile);
const PASSWORD = 'correct horse battery staple';
const APPLICATION = {
  organizationName: 'Portland Herald',
  contactEmail: 'editor@portlandherald.com',
  contactName: 'Jane Smith',
  domain: 'portlandherald.com',
  jurisdiction: 'US-OR',
  description: 'Daily newspaper covering Portland metro area, 50,000 daily readers',
};

async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(axe.source);
  const results = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as axe.AxeResults;
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

describe('onboarding review in the web console, in a real browser', () => {
  let mesh: MeshProcess;
  let scratch: string;
  let smtp: SMTPServer;
  let context: BrowserContext;
  let releaseNetwork: (() => Promise<void>) | undefined;
  let page: Page;
  const mailbox: { to: string[]; raw: string }[] = [];

  /** curl with a JSON body (from a file: bodies may be large); status and parsed answer. */
  async function curl(method: string, urlPath: string, body?: object, token?: string): Promise<{ status: number; body: Record<string, any> }> {
    const args = ['-sS', '-X', method, '--cacert', mesh.files.meshCa, '-w', '\n%{http_code}', '-H', 'Content-Type: application/json'];
    if (token) args.push('-H', `Authorization: Bearer ${token}`);
    if (body) {
      const file = path.join(scratch, `body-${Math.random().toString(36).slice(2)}.json`);
      await writeFile(file, JSON.stringify(body));
      args.push('--data-binary', `@${file}`);
    }
    const { stdout } = await run('curl', [...args, `${mesh.url}${urlPath}`], { maxBuffer: 64 * 1024 * 1024 });
    const cut = stdout.lastIndexOf('\n');
    return { status: Number(stdout.slice(cut + 1)), body: JSON.parse(stdout.slice(0, cut) || '{}') };
  }

  async function mailTo(email: string, subject: RegExp): Promise<string> {
    for (let i = 0; i < 300; i++) {
      const mail = mailbox.find((m) => m.to.includes(email) && subject.test(m.raw));
      if (mail) return mail.raw;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no mail matching ${subject} reached ${email}`);
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)`);
    scratch = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-onboarding-'));
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
    mesh = await startMeshProcess({ timeoutMs: 120_000, env: { MESH_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, MESH_MAIL_FROM: 'Mesh <onboarding@mesh.test>' } });
    // Another mesh process may be building the console: wait for the page (bounded).
    for (let i = 0; ; i++) {
      const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', mesh.files.meshCa, `${mesh.url}/console/`]);
      if (stdout === '200') break;
      if (i > 120) throw new Error(`/console/ answers ${stdout}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    // No network namespace comes or goes while the browser runs (Chromium would abort its loads).
    releaseNetwork = await lockRootNetwork();
    context = await chromium.launchPersistentContext(path.join(scratch, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      clientCertificates: [{ origin: mesh.url, certPath: mesh.files.adminCert, keyPath: mesh.files.adminKey }],
      ignoreHTTPSErrors: true,
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 240_000);
  afterAll(() =>
    cleanUp({
      browser: () => context?.close(),
      network: () => releaseNetwork?.(),
      mesh: () => mesh?.stop(),
      smtp: () => new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve())),
      scratch: () => removeDir(scratch),
    }),
  );

  it('approves an application in the console; the invitation is mailed, the certificate is PENDING until the new owner activates it, then it signs', async () => {
    const applied = await curl('POST', '/verimago/v1/apply', APPLICATION);
    expect(applied).toMatchObject({ status: 201, body: { status: 'PENDING', id: expect.stringMatching(/^app_/) } });
    // A creator omits the organization and the domain.
    expect((await curl('POST', '/verimago/v1/apply', { contactEmail: 'sam@creator.example', contactName: 'Sam Lee', jurisdiction: 'GB', description: 'Documentary photographer' })).status).toBe(201);

    await page.goto(`${mesh.url}/console/`);
    await page.getByRole('button', { name: 'Sign in with the admin certificate' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.getByRole('navigation', { name: 'Console pages' }).getByRole('link', { name: 'Onboarding' }).click();
    await page.getByRole('heading', { name: 'Onboarding', level: 1 }).waitFor();
    await page.getByRole('row', { name: /Portland Herald/ }).getByText('PENDING').waitFor();
    await page.waitForLoadState('networkidle');
    expect(await seriousViolations(page)).toEqual([]);
    const shots = process.env.UPDATE_SCREENSHOTS ? path.join(REPO_ROOT, 'docs') : path.join(scratch, 'shots');
    await mkdir(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, 'console-onboarding.png'), fullPage: true });
    // At 360 px nothing makes the page scroll sideways (the table scrolls in its own region).
    await page.setViewportSize({ width: 360, height: 740 });
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    expect(await seriousViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.getByRole('button', { name: 'Approve Portland Herald' }).click();
    await page.getByRole('dialog').getByText('editor@portlandherald.com is invited as its owner').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Approve the application' }).click();
    const outcome = page.getByRole('status').filter({ hasText: 'Approved Portland Herald' });
    await outcome.waitFor({ timeout: 20_000 });
    const [, projectId, certificateId] = /project (prj_\S+); invitation mailed to editor@portlandherald\.com; certificate (\S+) is PENDING/.exec((await outcome.textContent())!)!;
    expect((await curl('GET', `/verimago/v1/apply/${applied.body.id}`)).body.status).toBe('APPROVED');

    // The invitation arrived at the SMTP server; the certificate waits, and cannot sign.
    const invitation = await mailTo(APPLICATION.contactEmail, /^Subject: Your c2pa-mesh application is approved/m);
    const token = /(c2mi_[A-Za-z0-9_-]+)/.exec(invitation)![1];
    await page.getByRole('navigation', { name: 'Console pages' }).getByRole('link', { name: 'Certificates' }).click();
    await page.getByRole('row', { name: /Portland Herald/ }).getByText('PENDING').waitFor();

    // The contact signs up with the invited address, accepts, and activates with Verimago's PATCH.
    const account = (method: string, body: object, bearer?: string) => curl('POST', `/c2pamesh.account.v1.AccountService/${method}`, body, bearer);
    const email = APPLICATION.contactEmail;
    expect((await account('Register', { email, password: PASSWORD, displayName: 'Jane Smith' })).status).toBe(200);
    const code = /^Subject: Your c2pa-mesh verification code: (\d{6})/m.exec(await mailTo(email, /verification code/))![1];
    expect((await account('VerifyEmail', { email, code })).status).toBe(200);
    const plain = (await account('Login', { email, password: PASSWORD })).body.tokens.accessToken;
    expect((await account('AcceptInvitation', { token }, plain)).body.organization).toMatchObject({ name: 'Portland Herald', role: 'owner', projectIds: [projectId] });
    const owner = (await account('Login', { email, password: PASSWORD, projectId })).body.tokens.accessToken;

    const jpeg = (await readFile(path.join(FIXTURES, 'no_manifest.jpg'))).toString('base64');
    const manifestJson = JSON.stringify({ title: 'herald.jpg', assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture' }] } }] });
    const sign = () => curl('POST', '/c2pamesh.signing.v1.SigningService/Sign', { asset: jpeg, format: 'image/jpeg', manifestJson, signerId: certificateId }, owner);
    const pending = await sign();
    expect(pending.body).toMatchObject({ code: 'failed_precondition', message: expect.stringMatching(/waiting for activation/) });

    const activated = await curl('PATCH', `/verimago/v1/certs/${certificateId}/activate`, undefined, owner);
    expect(activated).toMatchObject({ status: 200, body: { id: certificateId, status: 'ACTIVE' } });
    const signed = await sign();
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    expect(Buffer.from(signed.body.signedAsset, 'base64').length).toBeGreaterThan(97_591);

    await page.reload();
    await page.getByRole('row', { name: /Portland Herald/ }).getByText('ACTIVE').waitFor();
  }, 240_000);
});
