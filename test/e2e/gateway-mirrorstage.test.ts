import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Agent, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeWithC2paTs } from '@c2pa-mesh/engine/test-support/c2pa-ts-judge';
import { cleanUp, closeServer, removeDir } from '../support/cleanup.js';
import { FIXTURES, freePort, startMeshProcess, type MeshProcess } from '../support/start-mesh.js';
import { createProjectKey, curl, runDocumentedCommand } from './gateway-support.js';

const run = promisify(execFile);

// The commands of MirrorStage's integration guide, as printed there. (The guide's page shows
// `-F "file=@my-image.jpg"` through an e-mail obfuscator; this is the command it means.)
const DOC_BASE_URL = 'https://c2pa.mirrorstage.net';
const DOC_SIGN = `curl -X POST https://c2pa.mirrorstage.net/v1/sign \\
  -H "Authorization: Bearer YOUR_API_KEY" \\
  -F "file=@my-image.jpg" \\
  -F 'manifest={"claim_generator":"MirrorStage/1.0","title":"My Image","assertions":[{"label":"c2pa.actions","data":{"actions":[{"action":"c2pa.created","digitalSourceType":"http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"}]}}]}' \\
  -F "format=image/jpeg" \\
  --output my-image-signed.jpg`;
const DOC_SIGN_URL = `curl -X POST https://c2pa.mirrorstage.net/v1/sign \\
-H "Authorization: Bearer YOUR_API_KEY" \\
-F "file_url=https://cdn.example.com/my-image.jpg" \\
-F 'manifest={"claim_generator":"MirrorStage/1.0","title":"My Image","assertions":[{"label":"c2pa.actions","data":{"actions":[{"action":"c2pa.created","digitalSourceType":"http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"}]}}]}' \\
-F "format=image/jpeg" \\
--output my-image-signed.jpg`;
const DOC_VERIFY = `curl -X POST https://c2pa.mirrorstage.net/v1/verify \\
  -H "Authorization: Bearer YOUR_API_KEY" \\
  -H "Content-Type: application/octet-stream" \\
  --data-binary @my-image-signed.jpg`;

const MANIFEST = '{"claim_generator":"MirrorStage/1.0","title":"My Image","assertions":[{"label":"c2pa.actions","data":{"actions":[{"action":"c2pa.created","digitalSourceType":"http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"}]}}]}';

/**
 * The TypeScript client of MirrorStage's guide, as printed there; only C2PA_URL and the key
 * (from the environment, as in the guide) point at the mesh.
 */
function mirrorStageGuideClient(C2PA_URL: string) {
  // Types only: the guide is written against the DOM's fetch typings, where json() is any.
  const fetch = globalThis.fetch as (input: string, init: RequestInit) => Promise<Omit<Response, 'json'> & { json(): Promise<any> }>;
  const API_KEY = process.env.C2PA_API_KEY!;
  interface VerifyResult { validation_state: "Invalid" | "Valid" | "Trusted"; valid: boolean; trusted: boolean; manifest: Record<string, unknown> | null; signer: string | null; timestamp: string | null; validation_errors: string[]; validation_warnings: string[]; }
  function buildManifest(title: string) { return { claim_generator: "MirrorStage/1.0", title, assertions: [ { label: "c2pa.actions", data: { actions: [{ action: "c2pa.created", softwareAgent: { name: "MirrorStage", version: "1.0" }, digitalSourceType: "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia", }] }, }, { label: "stds.schema-org.CreativeWork", data: { "@type": "CreativeWork", author: [{ "@type": "Organization", name: "MirrorStage" }] }, }, ], }; }
  async function signFile(file: Buffer, filename: string, format: string): Promise<Buffer> { const form = new FormData(); form.append("file", new Blob([file]), filename); form.append("manifest", JSON.stringify(buildManifest(filename))); form.append("format", format); const res = await fetch(`${C2PA_URL}/sign`, { method: "POST", headers: { Authorization: `Bearer ${API_KEY}` }, body: form, }); if (!res.ok) throw new Error(`Sign failed: ${res.status}`); return Buffer.from(await res.arrayBuffer()); }
  async function verifyFile(file: Buffer): Promise<VerifyResult> { const res = await fetch(`${C2PA_URL}/verify`, { method: "POST", headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/octet-stream" }, body: file, }); if (!res.ok) throw new Error(`Verify failed: ${res.status}`); return res.json(); }
  return { signFile, verifyFile };
}

describe('MirrorStage clients against the gateway: only the base URL and the key change', () => {
  let mesh: MeshProcess;
  let scratch: string;
  let fileServer: https.Server;
  let fileServerUrl: string;
  let key: string;
  const signArgs = (extra: string[], apiKey = key) => ['-X', 'POST', `${mesh.url}/v1/sign`, '--cacert', mesh.files.meshCa, '-H', `Authorization: Bearer ${apiKey}`, ...extra];
  const verifyArgs = (file: string, apiKey = key) => ['-X', 'POST', `${mesh.url}/v1/verify`, '--cacert', mesh.files.meshCa, '-H', `Authorization: Bearer ${apiKey}`, '-H', 'Content-Type: application/octet-stream', '--data-binary', `@${file}`];

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-gateway-e2e-'));
    await copyFile(path.join(FIXTURES, 'no_manifest.jpg'), path.join(scratch, 'my-image.jpg'));
    // A CDN stand-in for file_url: HTTPS on 127.0.0.1 with a certificate made here, which the
    // mesh process trusts (NODE_EXTRA_CA_CERTS) and may reach (MESH_VERIFY_URL_ALLOW_HOSTS).
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'cdn-key.pem', '-out', 'cdn.pem', '-subj', '/CN=cdn.test', '-days', '1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: scratch });
    const image = await readFile(path.join(FIXTURES, 'no_manifest.jpg'));
    fileServer = https.createServer({ key: await readFile(path.join(scratch, 'cdn-key.pem')), cert: await readFile(path.join(scratch, 'cdn.pem')) }, (req, res) => {
      if (req.url === '/my-image.jpg') res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': image.length }).end(image);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => fileServer.listen(0, '127.0.0.1', resolve));
    fileServerUrl = `https://127.0.0.1:${(fileServer.address() as AddressInfo).port}`;
    mesh = await startMeshProcess({ env: { NODE_EXTRA_CA_CERTS: path.join(scratch, 'cdn.pem'), MESH_VERIFY_URL_ALLOW_HOSTS: '127.0.0.1' } });
    ({ key } = await createProjectKey(mesh, { name: 'MirrorStage' }));
  });
  afterAll(() => cleanUp({ mesh: () => mesh?.stop(), fileServer: () => closeServer(fileServer), scratch: () => removeDir(scratch) }));

  it('signs a JPEG with the guide\'s curl command and verifies it Trusted with the next one', async () => {
    const replacements = { [DOC_BASE_URL]: mesh.url, YOUR_API_KEY: key };
    const sign = await runDocumentedCommand(DOC_SIGN, replacements, { cwd: scratch, caFile: mesh.files.meshCa });
    expect(sign.code, sign.stderr).toBe(0);
    const signed = await readFile(path.join(scratch, 'my-image-signed.jpg'));
    const original = await readFile(path.join(scratch, 'my-image.jpg'));
    expect(signed.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(signed.length).toBeGreaterThan(original.length);

    const verify = await runDocumentedCommand(DOC_VERIFY, replacements, { cwd: scratch, caFile: mesh.files.meshCa });
    expect(verify.code, verify.stderr).toBe(0);
    const result = JSON.parse(verify.stdout.toString('utf8'));
    expect(result).toMatchObject({ validation_state: 'Trusted', valid: true, trusted: true, validation_errors: [], signer: 'c2pa-mesh default signer' });
    expect(Date.parse(result.timestamp)).toBeGreaterThan(Date.now() - 5 * 60_000);
    const manifest = result.manifest.manifests[result.manifest.active_manifest];
    expect(manifest.title).toBe('My Image');
    expect(manifest.assertions[0].data.actions[0].digitalSourceType).toMatch(/trainedAlgorithmicMedia$/);
  });

  it('answers sign with the signed file, X-Request-Id and X-Duration-Ms', async () => {
    const res = await curl(signArgs(['-F', `file=@${path.join(scratch, 'my-image.jpg')}`, '-F', `manifest=${MANIFEST}`, '-F', 'format=image/jpeg']));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['x-request-id']).toMatch(/^req_/);
    expect(Number(res.headers['x-duration-ms'])).toBeGreaterThan(0);
    expect(res.body.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('runs the guide\'s TypeScript fetch + FormData client unchanged', async () => {
    const previous: Dispatcher = getGlobalDispatcher();
    // Trusting the mesh's dev CA is the one change: a public deployment has a public certificate.
    setGlobalDispatcher(new Agent({ connect: { ca: await readFile(mesh.files.meshCa) } }));
    process.env.C2PA_API_KEY = key;
    try {
      const { signFile, verifyFile } = mirrorStageGuideClient(`${mesh.url}/v1`);
      const signed = await signFile(await readFile(path.join(FIXTURES, 'sample1.png')), 'photo.png', 'image/png');
      const result = await verifyFile(signed);
      expect(result.validation_state).toBe('Trusted');
      expect(result.trusted).toBe(true);
      expect(result.signer).toBe('c2pa-mesh default signer');
      const manifest = (result.manifest as any).manifests[(result.manifest as any).active_manifest];
      expect(manifest.assertions.map((a: { label: string }) => a.label)).toEqual(expect.arrayContaining(['c2pa.actions.v2', 'stds.schema-org.CreativeWork']));
      // The guide's CreativeWork has no @context; the mesh adds it, so c2pa-ts accepts the file too.
      const creativeWork = manifest.assertions.find((a: { label: string }) => a.label === 'stds.schema-org.CreativeWork');
      expect(creativeWork.data['@context']).toBe('https://schema.org');
      expect((await judgeWithC2paTs(new Uint8Array(signed))).explained).toEqual([]);
      // A signed file that was altered afterwards reads Invalid, not an HTTP error.
      const altered = await verifyFile(await readFile(path.join(FIXTURES, 'XCA.jpg')));
      expect(altered.validation_state).toBe('Invalid');
      expect(altered.validation_errors).toContain('assertion.dataHash.mismatch');
    } finally {
      setGlobalDispatcher(previous);
      delete process.env.C2PA_API_KEY;
    }
  });

  it('signs from file_url with the guide\'s command, through the same SSRF guard as VerifyUrl', async () => {
    await rm(path.join(scratch, 'my-image-signed.jpg'), { force: true });
    const replacements = { [DOC_BASE_URL]: mesh.url, YOUR_API_KEY: key, 'https://cdn.example.com': fileServerUrl };
    const sign = await runDocumentedCommand(DOC_SIGN_URL, replacements, { cwd: scratch, caFile: mesh.files.meshCa });
    expect(sign.code, sign.stderr).toBe(0);
    const signed = await readFile(path.join(scratch, 'my-image-signed.jpg'));
    expect(signed.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    const verified = await curl(verifyArgs(path.join(scratch, 'my-image-signed.jpg')));
    expect(verified.json().validation_state).toBe('Trusted');

    const metadata = await curl(signArgs(['-F', 'file_url=https://169.254.169.254/latest/meta-data/', '-F', `manifest=${MANIFEST}`, '-F', 'format=image/jpeg']));
    expect(metadata.status).toBe(400);
    expect(metadata.json().error).toMatch(/^file_url: .*169\.254\.169\.254/);
    const plain = await curl(signArgs(['-F', 'file_url=http://cdn.example.com/a.jpg', '-F', `manifest=${MANIFEST}`, '-F', 'format=image/jpeg']));
    expect(plain.status).toBe(400);
    expect(plain.json().error).toMatch(/https:\/\//);
    const both = await curl(signArgs(['-F', `file=@${path.join(scratch, 'my-image.jpg')}`, '-F', `file_url=${fileServerUrl}/my-image.jpg`, '-F', `manifest=${MANIFEST}`, '-F', 'format=image/jpeg']));
    expect(both.status).toBe(400);
    expect(both.json().error).toMatch(/either "file".*or "file_url", not both/);
  });

  describe('errors as MirrorStage users expect them: status, {error, request_id}, X-Request-Id', () => {
    const expectError = (res: Awaited<ReturnType<typeof curl>>, status: number, message: RegExp) => {
      expect(res.status, res.body.toString()).toBe(status);
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(['error', 'request_id']);
      expect(body.error).toMatch(message);
      expect(body.request_id).toBe(res.headers['x-request-id']);
      return body;
    };

    it('400 for a missing field, bad JSON, an unsupported format, a magic-bytes mismatch, a file under 100 bytes', async () => {
      const jpeg = path.join(scratch, 'my-image.jpg');
      expectError(await curl(signArgs(['-F', `file=@${jpeg}`, '-F', 'format=image/jpeg'])), 400, /missing field "manifest"/);
      expectError(await curl(signArgs(['-F', `manifest=${MANIFEST}`, '-F', 'format=image/jpeg'])), 400, /missing field "file"/);
      expectError(await curl(signArgs(['-F', `file=@${jpeg}`, '-F', 'manifest={"claim_generator": "MirrorStage/1.0",', '-F', 'format=image/jpeg'])), 400, /"manifest" is not valid JSON/);
      expectError(await curl(signArgs(['-F', `file=@${jpeg}`, '-F', `manifest=${MANIFEST}`, '-F', 'format=image/bmp'])), 400, /format "image\/bmp" is not supported/);
      expectError(await curl(signArgs(['-F', `file=@${jpeg}`, '-F', `manifest=${MANIFEST}`, '-F', 'format=image/png'])), 400, /declared image\/png but the bytes are a JPEG/);
      const tiny = path.join(scratch, 'tiny.jpg');
      await writeFile(tiny, (await readFile(jpeg)).subarray(0, 99));
      expectError(await curl(signArgs(['-F', `file=@${tiny}`, '-F', `manifest=${MANIFEST}`, '-F', 'format=image/jpeg'])), 400, /99 bytes; a complete media file is at least 100 bytes/);
    });

    it('400 for a file without C2PA data on verify', async () => {
      expectError(await curl(verifyArgs(path.join(FIXTURES, 'no_manifest.jpg'))), 400, /no C2PA/i);
    });

    it('401 for a missing or invalid key, 403 for a key without the scope', async () => {
      const jpeg = path.join(scratch, 'my-image.jpg');
      const form = ['-F', `file=@${jpeg}`, '-F', `manifest=${MANIFEST}`, '-F', 'format=image/jpeg'];
      const anonymous = await curl(['-X', 'POST', `${mesh.url}/v1/sign`, '--cacert', mesh.files.meshCa, ...form]);
      expectError(anonymous, 401, /needs an identity/);
      expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
      expectError(await curl(signArgs(form, 'c2m_this-key-does-not-exist')), 401, /invalid API key/);
      const verifyOnly = await createProjectKey(mesh, { scopes: ['verify'], name: 'Verify only' });
      expectError(await curl(signArgs(form, verifyOnly.key)), 403, /needs the scope sign/);
    });

    it('413 for a file over the key\'s size limit, on sign and on verify', async () => {
      const small = await createProjectKey(mesh, { maxAssetBytes: 50_000n, name: 'Small files' });
      const png = path.join(FIXTURES, 'sample1.png');
      expectError(await curl(signArgs(['-F', `file=@${png}`, '-F', `manifest=${MANIFEST}`, '-F', 'format=image/png'], small.key)), 413, /larger than this key's limit of 50000 bytes/);
      expectError(await curl(verifyArgs(png, small.key)), 413, /larger than this key's limit/);
      expectError(await curl(['--http1.1', ...verifyArgs(png, small.key)]), 413, /larger than this key's limit/);
    });

    it('429 with Retry-After once the key\'s rate is used up', async () => {
      const slow = await createProjectKey(mesh, { requestsPerMinute: 1, name: 'Slow' });
      const signed = path.join(scratch, 'my-image-signed.jpg');
      expect((await curl(verifyArgs(signed, slow.key))).status).toBe(200);
      const limited = expectError(await curl(verifyArgs(signed, slow.key)), 429, /rate limit exceeded/);
      expect(limited.request_id).toMatch(/^req_/);
      const retry = (await curl(verifyArgs(signed, slow.key))).headers['retry-after'];
      expect(Number(retry)).toBeGreaterThanOrEqual(1);
    });

    it('warms the engine on /v1/warmup (safe when warm) and reports health without a key', async () => {
      const warm = await curl(['-X', 'POST', `${mesh.url}/v1/warmup`, '--cacert', mesh.files.meshCa, '-H', `Authorization: Bearer ${key}`]);
      expect(warm.status).toBe(200);
      expect(warm.json()).toMatchObject({ status: 'warm', warmed: true, threads: expect.any(Number) });
      const health = await curl([`${mesh.url}/v1/health`, '--cacert', mesh.files.meshCa]);
      expect(health.json()).toMatchObject({ status: 'ok' });
    });
  });
});

describe('the gateway in a process whose signing service is unreachable', () => {
  let mesh: MeshProcess;
  let key: string;
  beforeAll(async () => {
    // The signing service "lives" on a port nobody listens on.
    const closed = await freePort();
    mesh = await startMeshProcess({ env: { MESH_SERVICES: 'verification,registry,certificate-authority', MESH_SIGNING_URL: `https://127.0.0.1:${closed}` } });
    ({ key } = await createProjectKey(mesh, { name: 'Backend down' }));
  });
  afterAll(async () => {
    await mesh?.stop();
  });

  it('answers 502 for sign, and keeps serving what this process runs', async () => {
    const res = await curl(['-X', 'POST', `${mesh.url}/v1/sign`, '--cacert', mesh.files.meshCa, '-H', `Authorization: Bearer ${key}`, '-F', `file=@${path.join(FIXTURES, 'no_manifest.jpg')}`, '-F', `manifest=${MANIFEST}`, '-F', 'format=image/jpeg']);
    expect(res.status).toBe(502);
    const body = res.json();
    expect(body.error).toMatch(/backend service is unavailable/);
    expect(body.error).not.toMatch(/127\.0\.0\.1/);
    expect(body.request_id).toBe(res.headers['x-request-id']);
    const verify = await curl(['-X', 'POST', `${mesh.url}/v1/verify`, '--cacert', mesh.files.meshCa, '-H', `Authorization: Bearer ${key}`, '-H', 'Content-Type: application/octet-stream', '--data-binary', `@${path.join(FIXTURES, 'C.jpg')}`]);
    expect(verify.status).toBe(200);
    expect(verify.json()).toMatchObject({ validation_state: 'Valid', validation_errors: ['signingCredential.untrusted'] });
  });
});
