import { readFile } from 'node:fs/promises';
import http2 from 'node:http2';
import path from 'node:path';
import { createClient } from '@connectrpc/connect';
import { createIdentityResolver } from '@c2pa-mesh/auth';
import { createCallerClientsFactory } from '@c2pa-mesh/clients';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { RegistryService } from '@c2pa-mesh/proto';
import { startTlsListener, type RunningListener } from '@c2pa-mesh/server';
import { pino } from 'pino';
import { Agent, FormData, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatExtension, sniffFormat } from '@c2pa-mesh/engine';
import { flipMediaByte, hashMismatchCode, MORE_SAMPLES, readMedia } from '@c2pa-mesh/engine/test-support';
import { judgeWithC2paTs } from '@c2pa-mesh/engine/test-support/c2pa-ts-judge';
import { cleanUp } from '../../../test/support/cleanup.js';
import { createGateway } from './gateway.js';

/**
 * The gateway on a real TLS listener in front of the whole mesh in memory: the HTTP shapes, and
 * that every call goes through the interceptors (identity, limits, audit) as the HTTP caller.
 */
const MEDIA = path.resolve(import.meta.dirname, '../../../test/fixtures/media');
const MANIFEST = JSON.stringify({
  claim_generator: 'MirrorStage/1.0',
  title: 'My Image',
  assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia' }] } }],
});

let mesh: TestMesh;
let listener: RunningListener;
let agent: Agent;
let projectId: string;
let key: string;
let keyId: string;
let jpeg: Buffer;

async function startGateway(publicLookupsPerMinute?: number): Promise<RunningListener> {
  const logger = pino({ level: 'silent' });
  const gateway = createGateway({
    clientsFor: createCallerClientsFactory({ localServices: mesh.config.services, routes: mesh.routes, interceptors: mesh.interceptors, remote: { urls: {}, caPem: mesh.pki.meshCa.pem } }),
    resolver: createIdentityResolver(mesh.db),
    engine: mesh.engine,
    audit: mesh.audit,
    logger,
    publicLookupsPerMinute,
  });
  return startTlsListener({
    host: '127.0.0.1',
    port: 0,
    certificatePem: mesh.pki.server.pem,
    privateKeyPem: await readFile(mesh.pki.server.privateKeyPath, 'utf8'),
    clientCaPem: mesh.pki.meshCa.pem,
    routes: mesh.routes,
    interceptors: mesh.interceptors,
    logger,
    fallback: gateway,
  });
}

const admin = () => createClient(RegistryService, mesh.transport(ADMIN_IDENTITY));
const auditEvent = async (requestId: string) => (await admin().listAuditEvents({ pageSize: 500 })).events.filter((e) => e.requestId === requestId);

function signForm(file: Blob | undefined, fields: Record<string, string>): FormData {
  const form = new FormData();
  if (file) form.append('file', file, 'my-image.jpg');
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return form;
}

const post = (pathname: string, body: FormData | Uint8Array | string, headers: Record<string, string> = {}) =>
  undiciFetch(`${listener.url}${pathname}`, { method: 'POST', body: body as never, headers, dispatcher: agent });

/** One HTTP/2 request, the body sent in pieces without a length: the limit must hold while streaming. */
function http2Upload(pathname: string, headers: Record<string, string>, pieces: Buffer[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(listener.url, { ca: mesh.pki.meshCa.pem });
    session.on('error', reject);
    const stream = session.request({ ':method': 'POST', ':path': pathname, ...headers });
    let status = 0;
    let body = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (chunk) => (body += chunk));
    // The whole answer arrived while the upload is still open: the refusal did not wait for it.
    // (Node's client keeps a stream with unsent data open even after the server's RST_STREAM.)
    stream.on('end', () => {
      session.destroy();
      resolve({ status, body });
    });
    stream.on('error', () => undefined);
    for (const piece of pieces) stream.write(piece);
    // Never end the upload: the refusal must come while the caller is still sending.
  });
}

beforeAll(async () => {
  mesh = await createTestMesh();
  await mesh.engine!.warmup();
  listener = await startGateway(2);
  agent = new Agent({ connect: { ca: mesh.pki.meshCa.pem } });
  projectId = (await admin().createProject({ name: 'Gateway' })).projectId;
  const created = await admin().createApiKey({ projectId, name: 'gateway', scopes: ['sign', 'verify'], maxAssetBytes: 200_000n });
  key = created.key;
  keyId = created.keyId;
  jpeg = await readFile(path.join(MEDIA, 'no_manifest.jpg'));
});
afterAll(() => cleanUp({ listener: () => listener?.close(0), agent: () => agent?.close(), mesh: () => mesh?.close() }));

describe('the gateway on the TLS listener', () => {
  it('answers health without credentials, and unknown paths and methods with JSON errors', async () => {
    const health = await undiciFetch(`${listener.url}/v1/health`, { dispatcher: agent });
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const unknown = await undiciFetch(`${listener.url}/v2/sign`, { dispatcher: agent });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { request_id: string }).request_id).toBe(unknown.headers.get('x-request-id'));
    const wrongMethod = await undiciFetch(`${listener.url}/v1/sign`, { dispatcher: agent });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });

  it('signs a form upload through the Sign RPC as the key holder: same request id, audited', async () => {
    const res = await post('/v1/sign', signForm(new Blob([jpeg]), { manifest: MANIFEST, format: 'image/jpeg' }), { authorization: `Bearer ${key}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(Number(res.headers.get('x-duration-ms'))).toBeGreaterThanOrEqual(0);
    const requestId = res.headers.get('x-request-id')!;
    expect(res.headers.get('x-c2pa-warnings')).toBeNull();
    const signed = Buffer.from(await res.arrayBuffer());
    expect(signed.length).toBeGreaterThan(jpeg.length);
    const [event] = await auditEvent(requestId);
    expect(event).toMatchObject({ operation: 'Sign', code: 'ok', identity: keyId, identityKind: 'API_KEY', projectId, format: 'image/jpeg', clientIp: '127.0.0.1' });

    const verified = await post('/v1/verify', signed, { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' });
    expect(verified.status).toBe(200);
    expect(await verified.json()).toMatchObject({ validation_state: 'Trusted', valid: true, trusted: true, validation_errors: [], registered: true });
  });

  it('completes a CreativeWork without @context as MirrorStage\'s examples send it, says so in X-C2PA-Warnings, and the file is valid in c2pa-ts', async () => {
    const manifest = JSON.stringify({
      claim_generator: 'MirrorStage/1.0',
      title: 'My Image',
      assertions: [
        { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia' }] } },
        { label: 'stds.schema-org.CreativeWork', data: { '@type': 'CreativeWork', author: [{ '@type': 'Person', name: 'Jane Doe' }] } },
      ],
    });
    const res = await post('/v1/sign', signForm(new Blob([jpeg]), { manifest, format: 'image/jpeg' }), { authorization: `Bearer ${key}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-c2pa-warnings')).toBe('manifest.schemaOrgContextAdded;field="manifest_json.assertions[1].data"');
    const signed = new Uint8Array(await res.arrayBuffer());

    const verdict = await judgeWithC2paTs(signed);
    expect(verdict.explained).toEqual([]);
    expect(verdict.successes).toEqual(expect.arrayContaining(['claimSignature.validated', 'timeStamp.trusted', 'assertion.dataHash.match']));
    const verified = await post('/v1/verify', signed, { authorization: `Bearer ${key}`, 'content-type': 'image/jpeg' });
    expect(await verified.json()).toMatchObject({ validation_state: 'Trusted', validation_errors: [] });
    const report = await mesh.engine!.read({ format: 'image/jpeg', asset: signed, trustAnchorsPem: mesh.pki.c2paRoot.pem });
    const store = JSON.parse(report!.manifestStoreJson);
    const creativeWork = store.manifests[store.active_manifest].assertions.find((a: { label: string }) => a.label === 'stds.schema-org.CreativeWork');
    expect(creativeWork.data['@context']).toBe('https://schema.org');
  });

  it('takes the intent as a form field: C.jpg is edited by default (its manifest kept as the parent), created on request', async () => {
    const cJpg = await readFile(path.join(MEDIA, 'C.jpg'));
    const auth = { authorization: `Bearer ${key}` };
    const edited = await post('/v1/sign', signForm(new Blob([cJpg]), { manifest: MANIFEST, format: 'image/jpeg' }), auth);
    expect(edited.status).toBe(200);
    expect(edited.headers.get('x-sign-intent')).toBe('edit');
    const verified = await post('/v1/verify', Buffer.from(await edited.arrayBuffer()), { ...auth, 'content-type': 'image/jpeg' });
    const result = (await verified.json()) as { validation_state: string; active_manifest: string; ingredients: unknown[] };
    expect(result.validation_state).toBe('Trusted');
    expect(result.ingredients).toEqual([
      {
        title: 'C.jpg',
        relationship: 'parentOf',
        active_manifest: 'contentauth:urn:uuid:b2b1f7fa-b119-4de1-9c0d-c97fbea3f2c3',
        signer: 'C2PA Signer',
        validation_state: 'Valid',
        format: 'image/jpeg',
        parent_manifest: result.active_manifest,
      },
    ]);

    const created = await post('/v1/sign', signForm(new Blob([cJpg]), { manifest: MANIFEST, format: 'image/jpeg', intent: 'CREATE' }), auth);
    expect(created.status).toBe(200);
    expect(created.headers.get('x-sign-intent')).toBe('create');
    const createdResult = (await (await post('/v1/verify', Buffer.from(await created.arrayBuffer()), { ...auth, 'content-type': 'image/jpeg' })).json()) as { ingredients: unknown[] };
    expect(createdResult.ingredients).toEqual([]);

    const unknown = await post('/v1/sign', signForm(new Blob([cJpg]), { manifest: MANIFEST, format: 'image/jpeg', intent: 'remix' }), auth);
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toBe('the field "intent" must be create, edit or update (or be left out: edit a file that has Content Credentials, create otherwise), not "remix"');
    const noSourceType = await post('/v1/sign', signForm(new Blob([jpeg]), { manifest: '{"title": "x"}', format: 'image/jpeg', intent: 'create' }), auth);
    expect(noSourceType.status).toBe(400);
    expect(((await noSourceType.json()) as { error: string }).error).toMatch(/^intent CREATE: a digitalSourceType is required/);
  });

  it('writes the audit event itself when it refuses a form before any RPC', async () => {
    const res = await post('/v1/sign', signForm(new Blob([jpeg]), { format: 'image/jpeg' }), { authorization: `Bearer ${key}` });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; request_id: string };
    expect(body.error).toMatch(/missing field "manifest"/);
    const [event] = await auditEvent(body.request_id);
    expect(event).toMatchObject({ operation: 'Sign', status: 'ERROR', code: 'invalid_argument', identity: keyId, format: 'image/jpeg' });
  });

  it('has the interceptors refuse callers without a valid key, without reading their upload', async () => {
    for (const headers of [{}, { authorization: 'Bearer c2m_not-a-key' }, { authorization: 'Basic abc' }] as Record<string, string>[]) {
      const res = await post('/v1/sign', signForm(new Blob([jpeg]), { manifest: MANIFEST, format: 'image/jpeg' }), headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = (await res.json()) as { request_id: string };
      const [event] = await auditEvent(body.request_id);
      expect(event).toMatchObject({ operation: 'Sign', code: 'unauthenticated', identityKind: 'ANONYMOUS' });
    }
  });

  it('refuses an upload over the key\'s limit while it streams in (HTTP/2, no length given), and stays up', async () => {
    const boundary = 'gatewaytestboundary';
    const head = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="big.jpg"\r\ncontent-type: image/jpeg\r\n\r\n`);
    const multipart = await http2Upload('/v1/sign', { authorization: `Bearer ${key}`, 'content-type': `multipart/form-data; boundary=${boundary}` }, [head, Buffer.alloc(150_000), Buffer.alloc(150_000)]);
    expect(multipart.status).toBe(413);
    expect(JSON.parse(multipart.body).error).toMatch(/larger than this key's limit of 200000 bytes/);
    const raw = await http2Upload('/v1/verify', { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' }, [Buffer.alloc(150_000), Buffer.alloc(150_000)]);
    expect(raw.status).toBe(413);
    // A declared length over the limit is refused before anything is read.
    const declared = await post('/v1/verify', Buffer.alloc(250_000), { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' });
    expect(declared.status).toBe(413);
    expect((await undiciFetch(`${listener.url}/v1/health`, { dispatcher: agent })).status).toBe(200);
  });

  it('serves the public lookup by hash as an anonymous identity limited per client address', async () => {
    const hash = `sha256:${'ab'.repeat(32)}`;
    const first = await undiciFetch(`${listener.url}/v1/verify/${hash}`, { dispatcher: agent });
    expect(first.status).toBe(404);
    expect(await first.json()).toEqual({ verified: false, shieldState: 'GREY', contentHash: hash });
    const [event] = await auditEvent(first.headers.get('x-request-id')!);
    expect(event).toMatchObject({ operation: 'VerifyByHash', code: 'ok', identityKind: 'ANONYMOUS', identity: 'anonymous:127.0.0.1' });
    await undiciFetch(`${listener.url}/v1/verify/${hash}`, { dispatcher: agent });
    const limited = await undiciFetch(`${listener.url}/v1/verify/${hash}`, { dispatcher: agent });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: string }).error).toMatch(/2 requests per minute for public calls from 127\.0\.0\.1/);
    const bad = await undiciFetch(`${listener.url}/v1/verify/md5:abc`, { dispatcher: agent });
    expect(bad.status).toBe(400);
  });

  it('answers CORS preflights', async () => {
    const res = await undiciFetch(`${listener.url}/v1/sign`, { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' }, dispatcher: agent });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
  });
});

describe('every further format the mesh signs, through the gateways', () => {
  let formatsKey: string;
  beforeAll(async () => {
    ({ key: formatsKey } = await admin().createApiKey({ projectId, name: 'formats', scopes: ['sign', 'verify'], maxAssetBytes: 1_000_000n, requestsPerMinute: 10_000 }));
  });
  const auth = () => ({ authorization: `Bearer ${formatsKey}` });
  type VerifyBody = { validation_state: string; validation_errors: string[]; registered: boolean };

  it.each(MORE_SAMPLES.map((s) => [s.file, s.format]))('MirrorStage: %s as %s signs, verifies Trusted (sniffed and declared), and Invalid once altered', async (file, format) => {
    const original = readMedia(file);
    const form = new FormData();
    form.append('file', new Blob([original]), `upload.${formatExtension(format)}`);
    form.append('manifest', MANIFEST);
    form.append('format', format);
    const res = await post('/v1/sign', form, auth());
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="upload-signed.${formatExtension(format)}"`);
    const signed = new Uint8Array(await res.arrayBuffer());
    for (const contentType of ['application/octet-stream', format]) {
      const verified = await post('/v1/verify', signed, { ...auth(), 'content-type': contentType });
      expect(verified.status).toBe(200);
      expect(await verified.json()).toMatchObject({ validation_state: 'Trusted', validation_errors: [], registered: true });
    }
    const altered = await post('/v1/verify', flipMediaByte(original, signed), { ...auth(), 'content-type': 'application/octet-stream' });
    const body = (await altered.json()) as VerifyBody;
    expect(body.validation_state).toBe('Invalid');
    expect(body.validation_errors).toContain(hashMismatchCode(format));
  });

  it.each([...new Set(MORE_SAMPLES.map((s) => s.file))])('DigiCert: %s signs, its format told by the file name, and verifies Trusted', async (file) => {
    const original = readMedia(file);
    const format = sniffFormat(original)!;
    const form = new FormData();
    for (const [name, value] of Object.entries({ hashAlgo: 'SHA256', signAlgo: '1.2.840.10045.4.3.2', signAlgoParams: 'MTIzNDQ=', accountId: 'a', schemaField: 'author' })) form.append(name, value);
    // As curl and browsers send a file they have no media type for.
    form.append('image', new Blob([original], { type: 'application/octet-stream' }), file);
    const res = await post('/c2pa/v1/sign', form, auth());
    const body = (await res.json()) as { mime_type: string; file_name: string; encoded_signed_content: string };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ mime_type: format, file_name: `signed-${file}` });
    const signed = Buffer.from(body.encoded_signed_content, 'base64');
    const report = await mesh.engine!.read({ format, asset: signed, trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(report?.validationState).toBe('Trusted');
  });

  it('MirrorStage: a format this engine build does not sign is a 400 naming the supported ones', async () => {
    const form = new FormData();
    form.append('file', new Blob([readMedia('sample1.pdf')]), 'report.docx');
    form.append('manifest', MANIFEST);
    form.append('format', 'docx');
    const res = await post('/v1/sign', form, auth());
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/format "docx" is not supported; supported formats are image\/jpeg, .*image\/heic/);
  });
});
