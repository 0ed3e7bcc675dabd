import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import axe from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, removeDir } from '../support/cleanup.js';
import { lockRootNetwork } from '../support/root-network-lock.js';
import { FIXTURES, REPO_ROOT, startMeshProcess, type MeshProcess } from '../support/start-mesh.js';

/**
 * The web console in a real browser (Debian's chromium, driven by playwright-core) against the
 * mesh as `npm start` runs it: sign in with the admin client certificate, create an API key and
 * see it once, use it with curl, revoke it and see curl refused, sign and verify files, find the
 * calls in the overview and the audit log; axe-core on every page, each page also at 360 px.
 * People register (codes from a real SMTP server started here), sign in with their password, run
 * their organization (members, invitations, roles) and see only what their role allows.
 * `UPDATE_SCREENSHOTS=1` writes the screenshots of the README to docs/.
 */

const CHROMIUM = '/usr/bin/chromium';
const run = promisify(execFile);
const MANIFEST = JSON.stringify({
  title: 'curl with a console key',
  assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture' }] } }],
});
const PAGES = ['overview', 'keys', 'audit', 'verify', 'sign', 'certificates', 'webhooks', 'guide'] as const;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PASSWORD = 'correct horse battery staple';

async function curlSign(mesh: MeshProcess, key: string, body: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = ['--fail', '-sS', '--cacert', mesh.files.meshCa, '-H', `Authorization: Bearer ${key}`, '-H', 'Content-Type: application/json', '--data-binary', `@${body}`, `${mesh.url}/c2pamesh.signing.v1.SigningService/Sign`];
  try {
    const { stdout, stderr } = await run('curl', args, { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** axe-core in the page (evaluated over the DevTools protocol: the page's CSP allows no injected script tag). */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(axe.source);
  const results = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as axe.AxeResults;
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

/** Drops a file on the page's drop zone the way a browser does: a drop event carrying a DataTransfer. */
async function dropFile(page: Page, name: string, bytes: Uint8Array, type: string) {
  // Runs in the page (no DOM types here: the test code is compiled for Node).
  const transfer = await page.evaluateHandle(
    ({ name, data, type }) => {
      const dom = globalThis as unknown as { DataTransfer: new () => { items: { add(file: unknown): void } } };
      const dt = new dom.DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name, { type }));
      return dt;
    },
    { name, data: Buffer.from(bytes).toString('base64'), type },
  );
  await page.dispatchEvent('[data-testid=dropzone]', 'drop', { dataTransfer: transfer });
}

describe('the web console in a real browser', () => {
  let mesh: MeshProcess;
  let scratch: string;
  let browser: Browser;
  let context: BrowserContext;
  let releaseNetwork: (() => Promise<void>) | undefined;
  let page: Page;
  let smtp: SMTPServer;
  const mailbox: { to: string[]; raw: string }[] = [];
  const cspViolations: string[] = [];
  const shots = () => (process.env.UPDATE_SCREENSHOTS ? path.join(REPO_ROOT, 'docs') : path.join(scratch, 'shots'));

  /** The newest mail to `to` that matches `pattern`; its first group. Quoted-printable soft breaks are undone first. */
  async function fromMail(to: string, pattern: RegExp): Promise<string> {
    let found: string | undefined;
    await expect
      .poll(() => (found = mailbox.map((m) => (m.to.includes(to) ? pattern.exec(m.raw.replace(/=\r?\n/g, ''))?.[1] : undefined)).findLast((v) => v !== undefined)), { timeout: 20_000 })
      .toBeDefined();
    return found!;
  }

  /** A browser context of its own for a person: no client certificate, its own cookies. */
  async function personPage(): Promise<Page> {
    const personContext = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
    const personal = await personContext.newPage();
    personal.on('console', (msg) => {
      if (/Content[- ]Security[- ]Policy/i.test(msg.text())) cspViolations.push(msg.text());
    });
    return personal;
  }

  /** Registers in the console's form, verifies the address with the mailed code, signs in. */
  async function registerAndSignIn(personal: Page, email: string, name: string) {
    await personal.goto(`${mesh.url}/console/`);
    const register = personal.getByRole('region', { name: 'Create an account' });
    await register.getByLabel('E-mail address').fill(email);
    await register.getByLabel('Your name').fill(name);
    await register.getByLabel(/^Password/).fill(PASSWORD);
    await register.getByRole('button', { name: 'Create the account' }).click();
    await register.getByLabel('Code from the e-mail').fill(await fromMail(email, /^Subject: Your c2pa-mesh verification code: (\d{6})/m));
    await register.getByRole('button', { name: 'Verify the address' }).click();
    const signIn = personal.getByRole('region', { name: 'Sign in with your account' });
    await signIn.getByText(`${email} is verified: sign in.`).waitFor();
    await signIn.getByLabel('Password').fill(PASSWORD);
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await personal.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  }

  /** No serious axe-core finding at desktop width and at 360 px, where nothing may scroll sideways. */
  async function checkPage(target: Page, name: string, screenshot?: string) {
    await target.setViewportSize({ width: 1280, height: 900 });
    await target.waitForLoadState('networkidle');
    expect(await seriousViolations(target), name).toEqual([]);
    if (screenshot) await target.screenshot({ path: path.join(shots(), screenshot), fullPage: true });
    await target.setViewportSize({ width: 360, height: 740 });
    expect(await target.evaluate('document.documentElement.scrollWidth'), `${name} at 360 px`).toBeLessThanOrEqual(360);
    expect(await seriousViolations(target), `${name} at 360 px`).toEqual([]);
    await target.setViewportSize({ width: 1280, height: 900 });
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)`);
    scratch = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-console-'));
    // A real SMTP server: the mesh mails people's codes and invitations to it.
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
    mesh = await startMeshProcess({ timeoutMs: 120_000, env: { MESH_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, MESH_MAIL_FROM: 'Mesh Console <console@mesh.test>' } });
    // Another mesh process may be building the console: wait for the page (bounded).
    for (let i = 0; ; i++) {
      const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', mesh.files.meshCa, `${mesh.url}/console/`]);
      if (stdout === '200') break;
      if (i > 120) throw new Error(`/console/ answers ${stdout}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    // No network namespace comes or goes while the browser runs (Chromium would abort its loads).
    releaseNetwork = await lockRootNetwork();
    // One browser for the file; the admin's context presents the admin client certificate to the
    // mesh's origin only, people's contexts present none.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    context = await browser.newContext({
      clientCertificates: [{ origin: mesh.url, certPath: mesh.files.adminCert, keyPath: mesh.files.adminKey }],
      // The mesh's server certificate chains to the mesh CA, which the browser does not know.
      ignoreHTTPSErrors: true,
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    page = await context.newPage();
    page.on('console', (msg) => {
      if (/Content[- ]Security[- ]Policy/i.test(msg.text())) cspViolations.push(msg.text());
    });
  }, 240_000);
  afterAll(() =>
    cleanUp({
      browser: () => browser?.close(),
      network: () => releaseNetwork?.(),
      mesh: () => mesh?.stop(),
      smtp: () => new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve())),
      scratch: () => removeDir(scratch),
    }),
  );

  it('signs in, manages a key used by curl, signs and verifies, and shows it all; every page passes axe-core', async () => {
    const response = await page.goto(`${mesh.url}/console/`);
    const csp = response!.headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response!.headers()['x-frame-options']).toBe('DENY');

    // Sign-in with the certificate the browser presented.
    await page.getByRole('button', { name: 'Sign in with the admin certificate' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    const cookie = (await context.cookies(mesh.url)).find((c) => c.name === '__Host-mesh-console')!;
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });

    // A project and a key for it; the secret is shown once.
    await page.goto(`${mesh.url}/console/#/keys`);
    await page.getByLabel('New project name').fill('Console newsroom');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('combobox', { name: 'Project' }).locator('option', { hasText: 'Console newsroom' }).waitFor({ state: 'attached' });
    const projectId = /\(([^()]+)\)$/.exec((await page.getByRole('combobox', { name: 'Project' }).locator('option:checked').textContent())!)![1];
    await page.getByLabel('Name', { exact: true }).fill('CMS production');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByText("Copy it now: it won't be shown again.").waitFor();
    const key = (await page.getByTestId('new-key').textContent())!.trim();
    expect(key).toMatch(/^c2m_/);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.reload();
    await page.getByRole('cell', { name: 'CMS production', exact: true }).waitFor();
    expect(await page.content()).not.toContain(key);

    // The key works with curl, and the open overview counts the call without a reload.
    await page.goto(`${mesh.url}/console/#/overview`);
    const today = async () => Number((await page.getByTestId('today-requests').textContent())!.replace(/,/g, ''));
    await expect.poll(today).toBeGreaterThan(0);
    const before = await today();
    const body = path.join(scratch, 'sign.json');
    const png = await readFile(path.join(FIXTURES, 'sample1.png'));
    await writeFile(body, JSON.stringify({ asset: png.toString('base64'), format: 'image/png', manifestJson: MANIFEST }));
    const signed = await curlSign(mesh, key, body);
    expect(signed.code, signed.stderr).toBe(0);
    const signedAsset = Buffer.from(JSON.parse(signed.stdout).signedAsset, 'base64');
    await expect.poll(today, { timeout: 20_000 }).toBeGreaterThan(before);
    await page.getByRole('row', { name: /Console newsroom/ }).waitFor();
    await page.goto(`${mesh.url}/console/#/keys`);

    // Revoked in the console, after a confirmation that says what happens: the next call fails.
    await page.getByRole('button', { name: 'Revoke key CMS production' }).click();
    await page.getByRole('dialog').getByText('Every call made with this key will fail at once.').waitFor();
    await page.getByRole('button', { name: 'Revoke the key' }).click();
    await page.getByRole('row', { name: /CMS production/ }).getByText('REVOKED').waitFor();
    const refused = await curlSign(mesh, key, body);
    expect(refused.code).toBe(22);
    expect(refused.stderr).toContain('401');

    // Verify: what the mesh signed is Trusted; one changed byte is Invalid with the data hash mismatch.
    await page.goto(`${mesh.url}/console/#/verify`);
    await dropFile(page, 'signed.png', signedAsset, 'image/png');
    await expect.poll(() => page.getByTestId('validation-state').textContent(), { timeout: 30_000 }).toBe('Trusted');
    await page.getByText('curl with a console key').first().waitFor();
    const tampered = Uint8Array.from(signedAsset);
    tampered[tampered.length - 200] ^= 0x01;
    await dropFile(page, 'tampered.png', tampered, 'image/png');
    await expect.poll(() => page.getByTestId('validation-state').textContent(), { timeout: 30_000 }).toBe('Invalid');
    await page.getByText('assertion.dataHash.mismatch').first().waitFor();

    // Sign in the console: drop a file, download the signed one.
    await page.goto(`${mesh.url}/console/#/sign`);
    await page.getByRole('combobox', { name: 'Project' }).selectOption(projectId);
    await dropFile(page, 'photo.jpg', new Uint8Array(await readFile(path.join(FIXTURES, 'no_manifest.jpg'))), 'image/jpeg');
    const downloaded = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download signed photo.jpg' }).click({ timeout: 30_000 });
    const file = await (await downloaded).path();
    expect((await readFile(file)).length).toBeGreaterThan(97_591);

    // The overview counts the calls (live: it polls), the audit log lists them.
    await page.goto(`${mesh.url}/console/#/overview`);
    const projectRow = page.getByRole('row', { name: /Console newsroom/ });
    await projectRow.waitFor({ timeout: 20_000 });
    expect(Number((await page.getByTestId('today-requests').textContent())!.replace(/,/g, ''))).toBeGreaterThan(0);
    await page.goto(`${mesh.url}/console/#/audit`);
    const auditRow = page.getByRole('row').filter({ hasText: 'Sign' }).filter({ hasText: projectId });
    await auditRow.first().waitFor({ timeout: 20_000 });
    await page.getByRole('row').filter({ hasText: 'unauthenticated' }).first().waitFor({ timeout: 20_000 });

    // Every page: no serious or critical axe-core finding, at desktop width and at 360 px, where
    // nothing may make the page scroll sideways.
    await mkdir(shots(), { recursive: true });
    for (const name of PAGES) {
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto(`${mesh.url}/console/#/${name}`);
      await page.locator('h1').first().waitFor();
      if (name === 'verify') await dropFile(page, 'signed.png', signedAsset, 'image/png');
      if (name === 'verify') await page.getByTestId('validation-state').waitFor({ timeout: 30_000 });
      if (name === 'sign') await dropFile(page, 'photo.jpg', new Uint8Array(await readFile(path.join(FIXTURES, 'no_manifest.jpg'))), 'image/jpeg');
      if (name === 'sign') await page.getByRole('button', { name: 'Download signed photo.jpg' }).waitFor({ timeout: 30_000 });
      await page.waitForLoadState('networkidle');
      expect(await seriousViolations(page), name).toEqual([]);
      await page.screenshot({ path: path.join(shots(), `console-${name}.png`), fullPage: name !== 'audit' });
      await page.setViewportSize({ width: 360, height: 740 });
      expect(await page.evaluate('document.documentElement.scrollWidth'), `${name} at 360 px`).toBeLessThanOrEqual(360);
      expect(await seriousViolations(page), `${name} at 360 px`).toEqual([]);
      if (name === 'overview') await page.screenshot({ path: path.join(shots(), 'console-overview-360.png') });
    }

    // Signing out ends the session on the server: the same cookie opens nothing.
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in with the admin certificate' }).waitFor();
    const stale = await run('curl', ['-s', '--cacert', mesh.files.meshCa, '-H', 'Content-Type: application/json', '-H', `Cookie: __Host-mesh-console=${cookie.value}`, '-d', '{}', `${mesh.url}/c2pamesh.registry.v1.RegistryService/GetUsageStats`]);
    expect(JSON.parse(stale.stdout).code).toBe('unauthenticated');
    expect(cspViolations).toEqual([]);
  }, 240_000);

  it('people register, sign in with their password and run their organization; a viewer cannot sign; live updates stay within a tenant', async () => {
    await mkdir(shots(), { recursive: true });
    // The owner registers and signs in with the form: a cookie the page cannot read, no token in storage.
    const owner = await personPage();
    await owner.goto(`${mesh.url}/console/`);
    await owner.getByRole('region', { name: 'Sign in with your account' }).waitFor();
    await checkPage(owner, 'sign-in', 'console-signin.png');
    await registerAndSignIn(owner, 'olivia@newsroom.test', 'Olivia Owner');
    const cookie = (await owner.context().cookies(mesh.url)).find((c) => c.name === '__Host-mesh-console')!;
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
    const stored = String(await owner.evaluate('JSON.stringify({ ...localStorage, ...sessionStorage })'));
    expect(stored).not.toMatch(/eyJ|c2mr_|cs_/);
    await owner.getByText('You are in no organization with a project yet').waitFor();

    // An organization and a project of it; a viewer and a member invited by e-mail.
    await owner.goto(`${mesh.url}/console/#/members`);
    await owner.getByLabel('New organization name').fill('Newsroom Co');
    await owner.getByRole('button', { name: 'Create organization' }).click();
    const members = owner.getByRole('region', { name: 'Members of Newsroom Co' });
    await expect.poll(() => members.getByRole('combobox', { name: 'Role of olivia@newsroom.test' }).inputValue()).toBe('owner');
    await owner.getByLabel('New project name').fill('Newsroom desk');
    await owner.getByRole('button', { name: 'Create project' }).click();
    await owner.getByRole('region', { name: 'Projects' }).getByText('Newsroom desk').waitFor();
    const invite = async (email: string, role: string) => {
      const form = owner.getByRole('region', { name: 'Invite a member' });
      await form.getByLabel('E-mail address').fill(email);
      await form.getByRole('combobox').selectOption(role);
      await owner.getByRole('button', { name: 'Send the invitation' }).click();
      await owner.getByText(`Invitation mailed to ${email}.`).waitFor();
    };
    await invite('victor@newsroom.test', 'viewer');
    await invite('mia@newsroom.test', 'member');
    const pending = owner.getByRole('region', { name: 'Pending invitations of Newsroom Co' });
    await pending.getByRole('row', { name: /victor@newsroom\.test/ }).waitFor();
    await pending.getByRole('row', { name: /mia@newsroom\.test/ }).waitFor();
    const token = await fromMail('victor@newsroom.test', /(c2mi_[A-Za-z0-9_-]+)/);

    // The viewer registers, accepts the invitation, and is offered no signing; the mesh refuses it anyway.
    const viewer = await personPage();
    await registerAndSignIn(viewer, 'victor@newsroom.test', 'Victor Viewer');
    await viewer.goto(`${mesh.url}/console/#/members`);
    await viewer.getByLabel('Invitation token (from the e-mail)').fill(token);
    await viewer.getByRole('button', { name: 'Accept the invitation' }).click();
    const seenByViewer = viewer.getByRole('region', { name: 'Members of Newsroom Co' });
    await seenByViewer.getByRole('row', { name: /victor@newsroom\.test/ }).getByRole('cell', { name: 'viewer', exact: true }).waitFor();
    expect(await seenByViewer.getByRole('combobox').count()).toBe(0);
    expect(await seenByViewer.getByRole('button', { name: /^Remove/ }).count()).toBe(0);
    await viewer.goto(`${mesh.url}/console/#/sign`);
    await viewer.getByText('Your role on this project (viewer) does not allow you to sign files.').waitFor();
    expect(await viewer.getByTestId('dropzone').count()).toBe(0);
    await checkPage(viewer, 'sign as a viewer');
    await viewer.goto(`${mesh.url}/console/#/keys`);
    await viewer.getByText('does not allow you to create, edit or revoke API keys').waitFor();
    expect(await viewer.getByRole('button', { name: 'Create key' }).count()).toBe(0);
    const projectId = (await viewer.getByRole('combobox', { name: 'Project' }).inputValue())!;
    const png = (await readFile(path.join(FIXTURES, 'sample1.png'))).toString('base64');
    const refused = (await viewer.evaluate(
      `(async () => {
        const session = await (await fetch('/console/api/session')).json();
        const res = await fetch('/c2pamesh.signing.v1.SigningService/Sign', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken, 'x-console-project': ${JSON.stringify(projectId)} },
          body: JSON.stringify({ asset: ${JSON.stringify(png)}, format: 'image/png', projectId: ${JSON.stringify(projectId)} }),
        });
        return [res.status, (await res.json()).code];
      })()`,
    )) as [number, string];
    expect(refused).toEqual([403, 'permission_denied']);

    // The owner sees the member list with the viewer, and one invitation still pending.
    await owner.reload();
    await members.getByRole('row', { name: /victor@newsroom\.test/ }).waitFor();
    expect(await members.getByRole('combobox', { name: 'Role of victor@newsroom.test' }).inputValue()).toBe('viewer');
    await pending.getByRole('row', { name: /mia@newsroom\.test/ }).waitFor();
    expect(await pending.getByRole('row', { name: /victor@newsroom\.test/ }).count()).toBe(0);
    await checkPage(owner, 'members', 'console-members.png');

    // The owner signs in their project; their overview counts it, with the day's latency.
    await owner.goto(`${mesh.url}/console/#/sign`);
    await dropFile(owner, 'desk.jpg', new Uint8Array(await readFile(path.join(FIXTURES, 'no_manifest.jpg'))), 'image/jpeg');
    await owner.getByRole('button', { name: 'Download signed desk.jpg' }).waitFor({ timeout: 30_000 });
    await owner.goto(`${mesh.url}/console/#/overview`);
    await owner.getByRole('row', { name: /Newsroom desk/ }).waitFor({ timeout: 20_000 });
    await owner.getByRole('img', { name: /^Call duration per day: on \d{4}-\d\d-\d\d average [\d,]+ ms, median [\d,]+ ms/ }).waitFor();

    // Live updates are per tenant: another project's changes leave this marker alone, and another
    // project's marker is not there for this person.
    const marker = (url: string, etag = '') =>
      owner.evaluate(`fetch(${JSON.stringify(url)}, { headers: ${JSON.stringify(etag ? { 'if-none-match': etag } : {})} }).then((r) => [r.status, r.headers.get('etag')])`) as Promise<[number, string]>;
    const [, etag] = await marker(`/console/api/changes?project=${projectId}`);
    const adminCurl = (method: string, body: unknown) =>
      run('curl', ['-sS', '--fail', '--cacert', mesh.files.meshCa, '--cert', mesh.files.adminCert, '--key', mesh.files.adminKey, '-H', 'Content-Type: application/json', '-d', JSON.stringify(body), `${mesh.url}/c2pamesh.registry.v1.RegistryService/${method}`]);
    const other = JSON.parse((await adminCurl('CreateProject', { name: 'Another tenant' })).stdout).projectId as string;
    await adminCurl('CreateApiKey', { projectId: other, name: 'theirs', scopes: ['sign'] });
    expect(await marker(`/console/api/changes?project=${projectId}`, etag)).toEqual([304, etag]);
    expect((await marker(`/console/api/changes?project=${other}`))[0]).toBe(404);
    await checkPage(owner, 'overview of a person', 'console-overview-person.png');

    // Signing out ends the session on the server.
    await owner.getByRole('button', { name: 'Sign out' }).click();
    await owner.getByRole('region', { name: 'Sign in with your account' }).waitFor();
    const stale = await run('curl', ['-s', '--cacert', mesh.files.meshCa, '-H', 'Content-Type: application/json', '-H', `Cookie: __Host-mesh-console=${cookie.value}`, '-d', '{}', `${mesh.url}/c2pamesh.account.v1.AccountService/ListOrganizations`]);
    expect(JSON.parse(stale.stdout).code).toBe('unauthenticated');
    expect(cspViolations).toEqual([]);
  }, 180_000);
});
