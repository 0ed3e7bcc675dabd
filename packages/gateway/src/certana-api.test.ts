/**
 * Certana's organizations, API keys, assets, verification, blockchain and webhook endpoints under
 * `/certana/v1/`, with its reference's own example requests, through the real TLS listener: two
 * organizations that see nothing of each other, a viewer who cannot upload, rate-limit headers
 * on every answer. No SMTP server: codes and invitations are read from the outbox.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@connectrpc/connect';
import { ADMIN_IDENTITY, createTestMesh, startTestListener, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { RegistryService, TransparencyLogService } from '@c2pa-mesh/proto';
import { startRelyingPartyListener, type RelyingPartyListener, type RunningListener } from '@c2pa-mesh/server';
import { createCosigner, parseVerifierKey, witnessOnce } from '@c2pa-mesh/transparency-log';
import { pino } from 'pino';
import { listOutboxMail } from '@c2pa-mesh/storage';
import sharp from 'sharp';
import { Agent, FormData, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../../../test/support/cleanup.js';

const MEDIA = path.resolve(import.meta.dirname, '../../../test/fixtures/media');
const PASSWORD = 'SecurePassword123!';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

let mesh: TestMesh;
let listener: RunningListener;
let agent: Agent;
let photo: Buffer;
let relyingParty: RelyingPartyListener;
let witnessDir: string;
// A witness the log trusts: once it cosigns, commitments are finalized.
const witnessKey = new Uint8Array(generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }));
const witness = createCosigner('witness.test.example/certana', witnessKey);

beforeAll(async () => {
  const before = process.env.MESH_LOG_WITNESSES;
  process.env.MESH_LOG_WITNESSES = witness.verifierKey;
  try {
    mesh = await createTestMesh();
  } finally {
    if (before === undefined) delete process.env.MESH_LOG_WITNESSES;
    else process.env.MESH_LOG_WITNESSES = before;
  }
  ({ listener } = await startTestListener(mesh, { fallback: mesh.gateway }));
  relyingParty = await startRelyingPartyListener({ host: '127.0.0.1', port: 0, routes: mesh.relyingPartyRoutes, logger: pino({ level: 'silent' }) });
  witnessDir = await mkdtemp(path.join(tmpdir(), 'certana-witness-'));
  agent = new Agent({ connect: { ca: mesh.pki.meshCa.pem } });
  photo = await readFile(path.join(MEDIA, 'no_manifest.jpg'));
}, 120_000);

afterAll(async () => {
  await cleanUp({
    agent: () => agent?.close(),
    listener: () => listener?.close(0),
    relyingParty: () => relyingParty?.close(0),
    mesh: () => mesh?.close(),
    witnessDir: () => (witnessDir ? rm(witnessDir, { recursive: true, force: true }) : undefined),
  });
});

interface Answer {
  status: number;
  json: Record<string, any> | undefined;
  text: string;
  headers: Headers;
}

async function call(method: string, pathname: string, options: { token?: string; apiKey?: string; json?: unknown; form?: FormData; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.apiKey) headers['x-api-key'] = options.apiKey;
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${listener.url}/certana/v1/${pathname}`, {
    method,
    dispatcher: agent,
    headers,
    body: options.form ?? (options.json === undefined ? undefined : JSON.stringify(options.json)),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : (JSON.parse(text) as Record<string, any>), text, headers: res.headers };
}

/** Registers (the reference's register body), verifies the address from the outbox, logs in. */
async function person(email: string, fullName: string): Promise<string> {
  expect((await call('POST', 'auth/register', { json: { email, password: PASSWORD, full_name: fullName } })).status).toBe(201);
  const mail = await listOutboxMail(mesh.db, email);
  const code = /code: (\d{6})/.exec(mail[mail.length - 1].subject)![1];
  expect((await call('POST', 'auth/verify-email', { json: { email, code } })).status).toBe(200);
  const login = await call('POST', 'auth/login', { json: { email, password: PASSWORD } });
  return login.json!.data.access_token as string;
}

/** The reference's upload form. */
function uploadForm(image: Uint8Array, fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  form.append('file', new Blob([image], { type: 'image/jpeg' }), 'photo.jpg');
  const all = { title: 'My Image', description: 'Image description', tags: 'tag1,tag2', track_a_enabled: 'true', track_b_enabled: 'true', track_c_enabled: 'true', metadata_tracking_enabled: 'true', blockchain_commit: 'true', ...fields };
  for (const [name, value] of Object.entries(all)) form.append(name, value);
  return form;
}

function verifyForm(field: string, images: Uint8Array[]): FormData {
  const form = new FormData();
  images.forEach((image, i) => form.append(field, new Blob([image], { type: 'image/jpeg' }), `image-${i}.jpg`));
  form.append('include_tamper_map', 'true');
  return form;
}

function expectRateLimitHeaders(answer: Answer): void {
  expect(Number(answer.headers.get('x-ratelimit-limit'))).toBeGreaterThan(0);
  expect(Number(answer.headers.get('x-ratelimit-remaining'))).toBeGreaterThanOrEqual(0);
  expect(Number(answer.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000 - 1);
}

describe(`Certana API drop-in on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let john = '';
  let mallory = '';
  let orgId = '';
  let assetId = '';
  let signedFile: Buffer;
  let readKey = '';

  it('creates, lists and shows organizations', async () => {
    john = await person('user@example.com', 'John Doe');
    mallory = await person('mallory@example.org', 'Mallory');
    const noOrg = await call('GET', 'assets/', { token: john });
    expect(noOrg.status).toBe(400);
    expect(noOrg.json!.detail).toMatch(/create one with POST organizations/);

    // POST /organizations/, the reference's body.
    const created = await call('POST', 'organizations/', { token: john, json: { name: 'Acme Corp', slug: 'acme-corp', plan: 'pro' } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      data: { id: expect.stringMatching(/^org_/), name: 'Acme Corp', slug: 'acme-corp', owner_id: expect.stringMatching(/^usr_/), plan: null, created_at: expect.stringMatching(ISO) },
      message: expect.any(String),
      timestamp: expect.stringMatching(ISO),
      request_id: expect.any(String),
    });
    orgId = created.json!.data.id;
    expectRateLimitHeaders(created);
    const taken = await call('POST', 'organizations/', { token: mallory, json: { name: 'Acme Again', slug: 'acme-corp', plan: 'pro' } });
    expect(taken.status).toBe(409);
    expect(taken.json!.error_code).toBe('CONFLICT');
    expect((await call('POST', 'organizations/', { token: mallory, json: { name: 'Evil Inc', slug: 'evil-inc', plan: 'free' } })).status).toBe(201);

    const listed = await call('GET', 'organizations/', { token: john });
    expect(listed.status).toBe(200);
    expect(listed.json!.data).toMatchObject({ items: [{ id: orgId, name: 'Acme Corp', slug: 'acme-corp' }], total: 1 });
    const shown = await call('GET', `organizations/${orgId}`, { token: john });
    expect(shown.json!.data).toMatchObject({ id: orgId, name: 'Acme Corp', members_count: 1, assets_count: 0, created_at: expect.stringMatching(ISO) });
    // Another organization's: not found, as if it did not exist.
    const foreign = await call('GET', `organizations/${orgId}`, { token: mallory });
    expect(foreign.status).toBe(404);
    expect(foreign.json!.error_code).toBe('NOT_FOUND');
  });

  it('uploads (signs and registers), lists, shows, changes and deletes assets', async () => {
    // POST /assets/, the reference's form.
    const uploaded = await call('POST', 'assets/', { token: john, form: uploadForm(photo) });
    expect(uploaded.status).toBe(201);
    const data = uploaded.json!.data;
    expect(data).toMatchObject({
      id: expect.any(String),
      organization_id: orgId,
      cid: null,
      content_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      title: 'My Image',
      description: 'Image description',
      tags: ['tag1', 'tag2'],
      mime_type: 'image/jpeg',
      ipfs_cid: null,
      watermarked_cid: null,
      processing_status: 'completed',
      log_index: expect.any(Number),
      created_at: expect.stringMatching(ISO),
    });
    expect(uploaded.json!.message).toMatch(/no watermark/);
    assetId = data.id;
    signedFile = Buffer.from(data.signed_file, 'base64');
    expect(data.file_size_bytes).toBe(signedFile.length);
    expectRateLimitHeaders(uploaded);
    // A second one, to page through.
    expect((await call('POST', 'assets/', { token: john, form: uploadForm(await sharp(photo).rotate(180).jpeg().toBuffer(), { title: 'Second', tags: 'tag2' }) })).status).toBe(201);

    // GET /assets/?page=1&page_size=20&order=created_at&sort=desc, the reference's query.
    const listed = await call('GET', 'assets/?page=1&page_size=20&order=created_at&sort=desc', { token: john });
    expect(listed.status).toBe(200);
    expect(listed.json!.data).toMatchObject({ total: 2, page: 1, page_size: 20, pages: 1 });
    expect(listed.json!.data.items.map((a: { title: string }) => a.title)).toEqual(['Second', 'My Image']);
    const page2 = await call('GET', 'assets/?page=2&page_size=1&sort=asc', { token: john });
    expect(page2.json!.data).toMatchObject({ total: 2, page: 2, page_size: 1, pages: 2, items: [{ title: 'Second' }] });
    const tagged = await call('GET', 'assets/?tags=tag1,tag2&status=completed', { token: john });
    expect(tagged.json!.data).toMatchObject({ total: 1, items: [{ id: assetId }] });
    expect((await call('GET', 'assets/?status=processing', { token: john })).json!.data).toMatchObject({ items: [], total: 0 });
    expect((await call('GET', 'assets/?order=title', { token: john })).json!.error_code).toBe('VALIDATION_ERROR');
    // GET /assets/search/?q=logo&page=1&page_size=10, the reference's search: text in a title, a
    // description or a tag, ignoring case; LIKE's wildcards are taken as themselves.
    expect((await call('GET', 'assets/search/?q=logo&page=1&page_size=10', { token: john })).json!.data).toMatchObject({ items: [], total: 0, page: 1, page_size: 10 });
    expect((await call('GET', 'assets/search/?q=MY%20IM&page=1&page_size=10', { token: john })).json!.data).toMatchObject({ total: 1, items: [{ id: assetId }] });
    expect((await call('GET', 'assets/search/?q=TAG2', { token: john })).json!.data).toMatchObject({ total: 2 });
    expect((await call('GET', 'assets/search/?q=%25', { token: john })).json!.data).toMatchObject({ total: 0 });
    expect((await call('GET', 'assets/search/', { token: john })).json!.error_code).toBe('VALIDATION_ERROR');

    expect((await call('GET', `assets/${assetId}`, { token: john })).json!.data).toMatchObject({ id: assetId, title: 'My Image' });
    // PATCH /assets/{id}, the reference's body.
    const patched = await call('PATCH', `assets/${assetId}`, { token: john, json: { title: 'Updated Title', description: 'New description', tags: ['new', 'tags'] } });
    expect(patched.status).toBe(200);
    expect(patched.json!.data).toMatchObject({ title: 'Updated Title', description: 'New description', tags: ['new', 'tags'] });
    expect((await call('GET', `organizations/${orgId}`, { token: john })).json!.data.assets_count).toBe(2);

    // Organization B sees nothing of A's assets.
    for (const [method, json] of [['GET'], ['PATCH', { title: 'mine' }], ['DELETE']] as const) {
      const answer = await call(method, `assets/${assetId}`, { token: mallory, ...(json ? { json } : {}) });
      expect(answer.status).toBe(404);
      expect(answer.json!.error_code).toBe('ASSET_NOT_FOUND');
    }
    expect((await call('GET', 'assets/', { token: mallory })).json!.data.total).toBe(0);
  });

  it('creates, lists, validates and revokes API keys; a viewer cannot upload', async () => {
    // POST /api-keys/, the reference's body.
    const created = await call('POST', 'api-keys/', { token: john, json: { name: 'Production API Key', scopes: ['read', 'verify'], expires_in_days: 90 } });
    expect(created.status).toBe(201);
    expect(created.json!.data).toMatchObject({ id: expect.any(String), key: expect.any(String), name: 'Production API Key', scopes: ['read', 'verify'], mesh_scopes: expect.arrayContaining(['registry.read', 'verify']), created_at: expect.stringMatching(ISO), last_used_at: null });
    expect(Date.parse(created.json!.data.expires_at) - Date.now()).toBeGreaterThan(89 * 86_400_000);
    readKey = created.json!.data.key;

    const validated = await call('POST', 'api-keys/validate', { headers: { 'x-api-key': readKey } });
    expect(validated.status).toBe(200);
    expect(validated.json!.data).toMatchObject({ valid: true, scopes: ['read', 'verify'], key_id: created.json!.data.id, name: 'Production API Key', is_active: true, rate_limit: { per_hour: expect.any(Number), per_day: expect.any(Number) } });
    const bad = await call('POST', 'api-keys/validate', { headers: { 'x-api-key': 'c2m_not_a_key' } });
    expect(bad.status).toBe(401);
    expect(bad.json!.error_code).toBe('INVALID_API_KEY');

    // The key reads the organization's assets, and cannot upload (no write scope).
    expect((await call('GET', 'assets/', { apiKey: readKey })).json!.data.total).toBe(2);
    const refused = await call('POST', 'assets/', { apiKey: readKey, form: uploadForm(photo) });
    expect(refused.status).toBe(403);
    expect(refused.json!.error_code).toBe('FORBIDDEN');

    const listed = await call('GET', 'api-keys/', { token: john });
    expect(listed.json!.data).toMatchObject({ total: 1, items: [{ id: created.json!.data.id, name: 'Production API Key', is_active: true }] });
    expect(listed.text).not.toContain(readKey);
    expect((await call('GET', 'api-keys/', { token: mallory })).json!.data.total).toBe(0);
    expect((await call('DELETE', `api-keys/${created.json!.data.id}`, { token: mallory })).status).toBe(404);

    // A viewer of the organization: reads, cannot upload.
    await fetch(`${listener.url}/c2pamesh.account.v1.AccountService/InviteMember`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${john}` },
      body: JSON.stringify({ organizationId: orgId, email: 'viewer@example.com', role: 'viewer' }),
    });
    const invitation = /c2mi_[A-Za-z0-9_-]+/.exec((await listOutboxMail(mesh.db, 'viewer@example.com')).at(-1)!.body_text)![0];
    const viewer = await person('viewer@example.com', 'Viewer');
    const accepted = await fetch(`${listener.url}/c2pamesh.account.v1.AccountService/AcceptInvitation`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${viewer}` },
      body: JSON.stringify({ token: invitation }),
    });
    expect(accepted.status).toBe(200);
    expect((await call('GET', `assets/${assetId}`, { token: viewer })).status).toBe(200);
    const viewerUpload = await call('POST', 'assets/', { token: viewer, form: uploadForm(photo) });
    expect(viewerUpload.status).toBe(403);
    expect(viewerUpload.json!.error_code).toBe('FORBIDDEN');
    expect((await call('POST', 'api-keys/', { token: viewer, json: { name: 'x', scopes: ['read'] } })).status).toBe(403);

    const revoked = await call('DELETE', `api-keys/${created.json!.data.id}`, { token: john });
    expect(revoked.status).toBe(204);
    expect((await call('POST', 'api-keys/validate', { headers: { 'x-api-key': readKey } })).json!.error_code).toBe('INVALID_API_KEY');
  });

  it('verifies single files and batches, and keeps the history', async () => {
    // POST /verify/ without credentials, the reference's form.
    const authentic = await call('POST', 'verify/', { form: verifyForm('file', [signedFile]) });
    expect(authentic.status).toBe(200);
    expect(authentic.json!.data).toMatchObject({
      is_authentic: true,
      confidence: 1,
      verdict: 'authentic',
      watermark: { track_a_detected: false, track_b_detected: false, track_c_detected: false, payload: null },
      fingerprint: { match_count: expect.any(Number), top_matches: expect.any(Array) },
      blockchain: { commitment_found: true, tx_hash: expect.stringMatching(/^[0-9a-f]{64}$/), signature_valid: true, on_chain: false },
      tamper_map: null,
    });
    expect(authentic.json!.data.fingerprint.top_matches[0]).toMatchObject({ asset_id: assetId, similarity: 1, distance: 0 });
    expectRateLimitHeaders(authentic);

    // A stripped, re-encoded copy: no credentials, found by its fingerprint; an unrelated image is not.
    const copy = await sharp(signedFile).resize(320).jpeg({ quality: 70 }).toBuffer();
    const unrelated = await readFile(path.join(MEDIA, 'XCA.jpg'));
    const stripped = await call('POST', 'verify/', { token: john, form: verifyForm('file', [copy]) });
    expect(stripped.json!.data).toMatchObject({ is_authentic: false, verdict: 'unknown', confidence: 0, blockchain: { commitment_found: false, tx_hash: null } });
    expect(stripped.json!.data.fingerprint.top_matches[0].asset_id).toBe(assetId);
    expect(stripped.json!.data.fingerprint.similarity_score).toBeGreaterThan(0.8);

    // POST /verify/batch with files=…&files=….
    const batch = await call('POST', 'verify/batch', { token: john, form: verifyForm('files', [signedFile, copy, unrelated]) });
    expect(batch.status).toBe(200);
    expect(batch.json!.data).toMatchObject({ total: 3, successful: 3, failed: 0, processing_time_ms: expect.any(Number) });
    expect(batch.json!.data.results.map((r: { verdict: string }) => r.verdict)).toEqual(['authentic', 'unknown', expect.any(String)]);

    // Organization B's caller verifying A's file learns it is authentic, but not which asset it is.
    const foreign = await call('POST', 'verify/', { token: mallory, form: verifyForm('file', [copy]) });
    expect(foreign.json!.data.fingerprint).toMatchObject({ match_count: 0, top_matches: [] });

    // GET /verify/history?page=1&page_size=20&verdict=authentic, the reference's query.
    const history = await call('GET', 'verify/history?page=1&page_size=20&verdict=authentic', { token: john });
    expect(history.status).toBe(200);
    // The anonymous verification belongs to no project, the stripped copy had no manifest to record: the batch's one.
    expect(history.json!.data).toMatchObject({ total: 1, page: 1, page_size: 20, pages: 1 });
    expect(history.json!.data.items[0]).toMatchObject({ id: expect.any(String), verified_at: expect.stringMatching(ISO), verdict: 'authentic', confidence: 1, asset_id: assetId });
    const future = await call('GET', `verify/history?start_date=${new Date(Date.now() + 86_400_000).toISOString()}`, { token: john });
    expect(future.json!.data).toMatchObject({ items: [], total: 0 });
    expect((await call('GET', 'verify/history?verdict=maybe', { token: john })).json!.error_code).toBe('VALIDATION_ERROR');
    expect((await call('GET', 'verify/history', {})).status).toBe(401);
    expect((await call('GET', 'verify/history?verdict=authentic', { token: mallory })).json!.data.total).toBe(0);
  });

  it('answers blockchain commitments from the transparency log', async () => {
    // POST /blockchain/commit, the reference's body.
    const committed = await call('POST', 'blockchain/commit', { token: john, json: { asset_id: assetId, watermark_hash: 'sha256hash', metadata: {} } });
    expect(committed.status).toBe(201);
    expect(committed.json!.data).toMatchObject({
      commitment_id: assetId,
      tx_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      signature: expect.any(String),
      commitment_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      on_chain_at: expect.stringMatching(ISO),
      confirmation_status: 'pending',
      verified: true,
    });
    // The witness checks the log's consistency and cosigns: the commitment is final.
    const { logVerifierKey } = await createClient(TransparencyLogService, mesh.transport(ADMIN_IDENTITY)).getCheckpoint({});
    const outcome = await witnessOnce({ logUrl: `${relyingParty.url}/log`, logKey: parseVerifierKey(logVerifierKey), name: witness.name, privateKeyPkcs8: witnessKey, statePath: path.join(witnessDir, 'state.json') });
    expect(outcome).toMatchObject({ status: 'cosigned', accepted: true });
    const shown = await call('GET', `blockchain/commitment/${assetId}`, { token: john });
    expect(shown.json!.data).toMatchObject({ commitment_id: assetId, asset_id: assetId, tx_hash: committed.json!.data.tx_hash, confirmation_status: 'finalized', verified: true });
    const verified = await call('POST', 'verify/', { form: verifyForm('file', [signedFile]) });
    expect(verified.json!.data.blockchain).toMatchObject({ commitment_found: true, tx_hash: committed.json!.data.tx_hash, on_chain: true });
    expect((await call('GET', `blockchain/commitment/${assetId}`, { token: mallory })).status).toBe(404);
  });

  it('creates and lists webhooks, deletes assets, and never shows a password hash', async () => {
    const hook = await call('POST', 'webhooks/', { token: john, json: { url: 'https://93.184.215.14/webhook', events: ['asset.processed', 'verification.completed'], active: true } });
    expect(hook.status).toBe(201);
    expect(hook.json!.data).toMatchObject({ url: 'https://93.184.215.14/webhook', events: ['asset.processed', 'verification.completed'], active: true, secret: expect.any(String) });
    expect((await call('GET', 'webhooks/', { token: john })).json!.data).toMatchObject({ total: 1, items: [{ id: hook.json!.data.id }] });
    expect((await call('GET', 'webhooks/', { token: mallory })).json!.data.total).toBe(0);

    expect((await call('DELETE', `assets/${assetId}`, { token: john })).status).toBe(204);
    expect((await call('GET', `assets/${assetId}`, { token: john })).json!.data.processing_status).toBe('deleted');
    expect((await call('GET', 'assets/', { token: john })).json!.data.total).toBe(1);

    // A key over its rate: 429 RATE_LIMITED, with the limiter's headers.
    const projectId = (await call('GET', `organizations/${orgId}`, { token: john })).json!.data.project_id as string;
    const { key } = await createClient(RegistryService, mesh.transport(ADMIN_IDENTITY)).createApiKey({ projectId, name: 'slow', scopes: ['registry.read'], requestsPerMinute: 2 });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await call('GET', 'assets/', { apiKey: key }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
    expect(answers.map((a) => a.headers.get('x-ratelimit-remaining'))).toEqual(['1', '0', '0']);
    expect(answers[2].json).toMatchObject({ error_code: 'RATE_LIMITED', detail: expect.stringMatching(/rate limit exceeded/) });
    expect(answers[2].headers.get('x-ratelimit-limit')).toBe('2');
    expect(Number(answers[2].headers.get('retry-after'))).toBeGreaterThan(0);

    // The project header under the gateway: another tenant's project is not found; a token made
    // for one project cannot name another.
    const rpc = (method: string, token: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${listener.url}/c2pamesh.${method}`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify(body) });
    const malloryProject = (await call('GET', 'organizations/', { token: mallory })).json!.data.items.find((o: { project_id: string | null }) => o.project_id).project_id as string;
    expect((await rpc('registry.v1.RegistryService/ListAssets', john, {}, { 'x-c2pa-project': malloryProject })).status).toBe(404);
    const login = (await (await fetch(`${listener.url}/c2pamesh.account.v1.AccountService/Login`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'user@example.com', password: PASSWORD, projectId }) })).json()) as { tokens: { accessToken: string } };
    expect((await rpc('registry.v1.RegistryService/ListAssets', login.tokens.accessToken, {}, { 'x-c2pa-project': malloryProject })).status).toBe(403);
    expect((await rpc('registry.v1.RegistryService/ListAssets', login.tokens.accessToken, {}, { 'x-c2pa-project': projectId })).status).toBe(200);

    for (const pathname of ['organizations/', `organizations/${orgId}`, 'api-keys/', 'assets/']) {
      const answer = await call('GET', pathname, { token: john });
      expect(answer.text).not.toMatch(/argon2|password/i);
    }
  });
});
