import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createIdentityResolver } from '@c2pa-mesh/auth';
import { createCallerClientsFactory } from '@c2pa-mesh/clients';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { RegistryService, SigningService, VerificationService } from '@c2pa-mesh/proto';
import { startTlsListener, type RunningListener } from '@c2pa-mesh/server';
import { pino } from 'pino';
import sharp from 'sharp';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeWithC2paTs } from '@c2pa-mesh/engine/test-support/c2pa-ts-judge';
import { cleanUp } from '../../../test/support/cleanup.js';
import { createGateway } from './gateway.js';

/**
 * Durable Content Credentials: a JPEG signed by the mesh, then re-encoded at quality 70, resized
 * to half and stripped of its metadata (what a social network does), is found again by its
 * fingerprint, by Verify and by the Soft Binding Resolution API, and its manifest store comes back
 * from the manifest repository. An unrelated photograph is not found; another project sees nothing.
 */
const MEDIA = path.resolve(import.meta.dirname, '../../../test/fixtures/media');
const MANIFEST = JSON.stringify({
  title: 'Harbour at dusk',
  assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture' }] } }],
});

let mesh: TestMesh;
let listener: RunningListener;
let agent: Agent;
let key: string;
let otherKey: string;
let signed: { assetId: string; label: string; softBinding: string; bytes: Uint8Array };
let stripped: Buffer;
let unrelated: Buffer;

const admin = () => createClient(RegistryService, mesh.transport(ADMIN_IDENTITY));
const asKey = (apiKey: string) => ({ headers: { authorization: `Bearer ${apiKey}` } });
const verification = () => createClient(VerificationService, mesh.transport());
const get = (pathname: string, apiKey?: string) =>
  undiciFetch(`${listener.url}${pathname}`, { dispatcher: agent, headers: apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` } });
const post = (pathname: string, body: Uint8Array | string, headers: Record<string, string>) =>
  undiciFetch(`${listener.url}${pathname}`, { method: 'POST', body, headers, dispatcher: agent });

/** What a platform does to an upload: re-encoded at quality 70, half the size, no metadata. */
async function platformCopy(image: Uint8Array): Promise<Buffer> {
  const { width } = await sharp(image).metadata();
  return sharp(image).rotate().resize(Math.round(width! / 2)).jpeg({ quality: 70 }).toBuffer();
}

beforeAll(async () => {
  mesh = await createTestMesh();
  await mesh.engine!.warmup();
  const logger = pino({ level: 'silent' });
  const gateway = createGateway({
    clientsFor: createCallerClientsFactory({ localServices: mesh.config.services, routes: mesh.routes, interceptors: mesh.interceptors, remote: { urls: {}, caPem: mesh.pki.meshCa.pem } }),
    resolver: createIdentityResolver(mesh.db),
    engine: mesh.engine,
    audit: mesh.audit,
    logger,
  });
  listener = await startTlsListener({
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
  agent = new Agent({ connect: { ca: mesh.pki.meshCa.pem } });
  const { projectId } = await admin().createProject({ name: `Newsroom ${Date.now()}` });
  key = (await admin().createApiKey({ projectId, name: 'newsroom', scopes: ['sign', 'verify'] })).key;
  const other = await admin().createProject({ name: `Elsewhere ${Date.now()}` });
  otherKey = (await admin().createApiKey({ projectId: other.projectId, name: 'elsewhere', scopes: ['sign', 'verify'] })).key;

  const photo = await readFile(path.join(MEDIA, 'XCA.jpg'));
  const response = await createClient(SigningService, mesh.transport()).sign({ asset: photo, format: 'image/jpeg', manifestJson: MANIFEST }, asKey(key));
  signed = { assetId: response.assetId, label: response.activeManifestLabel, softBinding: response.softBinding, bytes: response.signedAsset };
  stripped = await platformCopy(response.signedAsset);
  unrelated = await platformCopy(await readFile(path.join(MEDIA, 'sample1.webp')));
});
afterAll(() => cleanUp({ listener: () => listener?.close(0), agent: () => agent?.close(), mesh: () => mesh?.close() }));

describe('fingerprints at signing time', () => {
  it('signs the ISCC Image-Code in as a c2pa.soft-binding assertion; c2pa-rs reads the asset Trusted, c2pa-ts valid', async () => {
    expect(signed.softBinding).toMatch(/^ISCC:EEA[A-Z2-7]{13}$/);
    const report = await mesh.engine!.read({ format: 'image/jpeg', asset: signed.bytes, trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(report!.validationState).toBe('Trusted');
    const store = JSON.parse(report!.manifestStoreJson);
    const assertion = store.manifests[store.active_manifest].assertions.find((a: { label: string }) => a.label === 'c2pa.soft-binding');
    expect(assertion.data.alg).toBe('io.iscc.v0');
    expect(assertion.data.blocks).toHaveLength(1);
    const { isccText } = await import('@c2pa-mesh/soft-binding');
    expect(isccText(Buffer.from(assertion.data.blocks[0].value, 'base64'))).toBe(signed.softBinding);
    const verdict = await judgeWithC2paTs(signed.bytes);
    expect(verdict.explained).toEqual([]);
  });

  it('the platform copy really lost its Content Credentials', async () => {
    expect(await mesh.engine!.read({ format: 'image/jpeg', asset: stripped, trustAnchorsPem: mesh.pki.c2paRoot.pem })).toBeNull();
  });
});

describe('Verify finds stripped files', () => {
  it('answers a stripped copy with the signed asset as the best soft-binding match', async () => {
    const response = await verification().verify({ asset: stripped, format: 'image/jpeg' }, asKey(key));
    expect(response.valid).toBe(false);
    expect(response.softBindingMatches.length).toBeGreaterThanOrEqual(1);
    const [best] = response.softBindingMatches;
    expect(best.assetId).toBe(signed.assetId);
    expect(best.manifestLabel).toBe(signed.label);
    expect(best.similarity).toBeGreaterThan(0.84);
    expect(best.similarity).toBeLessThanOrEqual(1);
  });

  it('still answers not_found for an unrelated image, and for another project\'s caller', async () => {
    for (const [asset, apiKey] of [[unrelated, key], [stripped, otherKey]] as const) {
      const error = await verification().verify({ asset, format: 'image/jpeg' }, asKey(apiKey)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.NotFound);
    }
  });
});

describe('the Soft Binding Resolution API under /sbr/v1', () => {
  it('lists its algorithm', async () => {
    const res = await get('/sbr/v1/services/supportedAlgorithms');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ watermarks: [], fingerprints: [{ alg: 'io.iscc.v0' }] });
  });

  it('matches by content: the stripped copy finds the manifest, the unrelated image finds none', async () => {
    const found = await post('/sbr/v1/matches/byContent?alg=io.iscc.v0&maxResults=5', stripped, { authorization: `Bearer ${key}`, 'content-type': 'image/jpeg' });
    expect(found.status).toBe(200);
    const body = (await found.json()) as { matches: Array<{ manifestId: string; similarityScore: number }> };
    expect(body.matches[0].manifestId).toBe(signed.label);
    expect(body.matches[0].similarityScore).toBeGreaterThanOrEqual(84);
    const none = await post('/sbr/v1/matches/byContent', unrelated, { authorization: `Bearer ${key}`, 'content-type': 'image/jpeg' });
    expect(await none.json()).toEqual({ matches: [] });
    const elsewhere = await post('/sbr/v1/matches/byContent', stripped, { authorization: `Bearer ${otherKey}`, 'content-type': 'image/jpeg' });
    expect(await elsewhere.json()).toEqual({ matches: [] });
  });

  it('refuses what it cannot match: no credential 401, audio 415, a bad binding value 400', async () => {
    expect((await post('/sbr/v1/matches/byContent', stripped, { 'content-type': 'image/jpeg' })).status).toBe(401);
    expect((await post('/sbr/v1/matches/byContent', Buffer.alloc(200), { authorization: `Bearer ${key}`, 'content-type': 'audio/mpeg' })).status).toBe(415);
    const bad = await get('/sbr/v1/matches/byBinding?alg=io.iscc.v0&value=bm90LWEtY29kZQ', key);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/ISCC Image-Code/);
    expect((await get('/sbr/v1/matches/byBinding?alg=com.example.wm&value=AA', key)).status).toBe(400);
    expect((await get(`/sbr/v1/matches/byBinding?alg=io.iscc.v0&value=${encodeURIComponent(signed.softBinding)}&maxResults=0`, key)).status).toBe(400);
  });

  it('matches by binding, GET and POST, with the value signed into the asset', async () => {
    const value = Buffer.from((await import('@c2pa-mesh/soft-binding')).isccBytes(signed.softBinding)!).toString('base64');
    const byGet = await get(`/sbr/v1/matches/byBinding?alg=io.iscc.v0&value=${encodeURIComponent(value)}`, key);
    expect(byGet.status).toBe(200);
    expect(await byGet.json()).toEqual({ matches: [{ manifestId: signed.label, similarityScore: 100 }] });
    const byPost = await post('/sbr/v1/matches/byBinding?maxResults=1', JSON.stringify({ alg: 'io.iscc.v0', value }), { authorization: `Bearer ${key}`, 'content-type': 'application/json' });
    expect(await byPost.json()).toEqual({ matches: [{ manifestId: signed.label, similarityScore: 100 }] });
  });

  it('signs with a remote manifest reference to /sbr/v1/manifests/{label}, which serves that store', async () => {
    // C.jpg: a picture unlike the others here, so that it adds no match to the other tests.
    const photo = await readFile(path.join(MEDIA, 'C.jpg'));
    const response = await createClient(SigningService, mesh.transport()).sign({ asset: photo, format: 'image/jpeg', manifestJson: MANIFEST, remoteManifest: true }, asKey(key));
    expect(response.manifestUrl).toBe(`${mesh.config.publicUrl}/sbr/v1/manifests/${encodeURIComponent(response.activeManifestLabel)}`);
    expect(response.activeManifestLabel).toMatch(/^urn:c2pa:[0-9a-f-]{36}$/);
    // The reference is in the file (XMP dcterms:provenance), the store embedded beside it.
    expect(Buffer.from(response.signedAsset).includes(Buffer.from(response.manifestUrl))).toBe(true);
    const report = await mesh.engine!.read({ format: 'image/jpeg', asset: response.signedAsset, trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(report!.validationState).toBe('Trusted');
    const served = await get(new URL(response.manifestUrl).pathname, key);
    expect(served.status).toBe(200);
    const store = new Uint8Array(await served.arrayBuffer());
    const fromStore = await mesh.engine!.read({ format: 'application/c2pa', asset: store, trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(fromStore!.activeManifestLabel).toBe(response.activeManifestLabel);
  });

  it('serves the manifest store from the manifest repository; c2pa-rs reads it back', async () => {
    const res = await get(`/sbr/v1/manifests/${encodeURIComponent(signed.label)}`, key);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/c2pa');
    const store = new Uint8Array(await res.arrayBuffer());
    const report = await mesh.engine!.read({ format: 'application/c2pa', asset: store, trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(report!.activeManifestLabel).toBe(signed.label);
    expect(JSON.parse(report!.manifestStoreJson).active_manifest).toBe(signed.label);
    expect((await get(`/sbr/v1/manifests/${encodeURIComponent(signed.label)}`, otherKey)).status).toBe(404);
    expect((await get('/sbr/v1/manifests/urn%3Ac2pa%3Aunknown', key)).status).toBe(404);
  });

  it('takes a hint: hintAlg and hintValue find the manifest for content that alone finds none', async () => {
    const value = Buffer.from((await import('@c2pa-mesh/soft-binding')).isccBytes(signed.softBinding)!).toString('base64');
    const hinted = await post(`/sbr/v1/matches/byContent?hintAlg=io.iscc.v0&hintValue=${encodeURIComponent(value)}`, unrelated, { authorization: `Bearer ${key}`, 'content-type': 'image/jpeg' });
    expect(hinted.status).toBe(200);
    expect(await hinted.json()).toEqual({ matches: [{ manifestId: signed.label, similarityScore: 100 }] });
    // The stripped copy found both ways comes back once, with its best score.
    const both = await post(`/sbr/v1/matches/byContent?hintAlg=io.iscc.v0&hintValue=${encodeURIComponent(value)}`, stripped, { authorization: `Bearer ${key}`, 'content-type': 'image/jpeg' });
    expect(await both.json()).toEqual({ matches: [{ manifestId: signed.label, similarityScore: 100 }] });
    const lone = await post('/sbr/v1/matches/byContent?hintAlg=io.iscc.v0', unrelated, { authorization: `Bearer ${key}`, 'content-type': 'image/jpeg' });
    expect(lone.status).toBe(400);
    expect(((await lone.json()) as { error: string }).error).toMatch(/hintAlg and hintValue/);
    expect((await post('/sbr/v1/matches/byContent?hintAlg=com.example.wm&hintValue=AA', unrelated, { authorization: `Bearer ${key}`, 'content-type': 'image/jpeg' })).status).toBe(400);
    // A hint is still only searched within the caller's project.
    const elsewhere = await post(`/sbr/v1/matches/byContent?hintAlg=io.iscc.v0&hintValue=${encodeURIComponent(value)}`, unrelated, { authorization: `Bearer ${otherKey}`, 'content-type': 'image/jpeg' });
    expect(await elsewhere.json()).toEqual({ matches: [] });
  });

  it('returnActiveManifest=true serves the active manifest alone; c2pa-rs reads it', async () => {
    // The photo came with Content Credentials: its signed store holds that manifest (the parent
    // ingredient's) and the mesh's active one.
    const pathname = `/sbr/v1/manifests/${encodeURIComponent(signed.label)}`;
    const read = async (res: Awaited<ReturnType<typeof get>>) => {
      expect(res.status).toBe(200);
      const report = await mesh.engine!.read({ format: 'application/c2pa', asset: new Uint8Array(await res.arrayBuffer()), trustAnchorsPem: mesh.pki.c2paRoot.pem });
      return JSON.parse(report!.manifestStoreJson) as { active_manifest: string; manifests: Record<string, unknown> };
    };
    const whole = await read(await get(pathname, key));
    expect(Object.keys(whole.manifests)).toHaveLength(2);
    expect(Object.keys(whole.manifests)).toContain(signed.label);
    const active = await read(await get(`${pathname}?returnActiveManifest=true`, key));
    expect(active.active_manifest).toBe(signed.label);
    expect(Object.keys(active.manifests)).toEqual([signed.label]);
    expect(Object.keys((await read(await get(`${pathname}?returnActiveManifest=false`, key))).manifests)).toHaveLength(2);
    expect((await get(`${pathname}?returnActiveManifest=yes`, key)).status).toBe(400);
  });
});
