import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { createClient } from '@connectrpc/connect';
import { createIdentityResolver } from '@c2pa-mesh/auth';
import { createCallerClientsFactory } from '@c2pa-mesh/clients';
import { flipMediaByte, readMedia } from '@c2pa-mesh/engine/test-support';
import { ADMIN_IDENTITY, createTestMesh, createTestUrlFetcher, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { RegistryService } from '@c2pa-mesh/proto';
import { startTlsListener, type RunningListener } from '@c2pa-mesh/server';
import { pino } from 'pino';
import { Agent, FormData, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, closeServer } from '../../../test/support/cleanup.js';
import { createGateway } from './gateway.js';

/**
 * MirrorStage `POST /v1/sign` with an upload above the large-upload threshold (64 KiB here, so
 * that a fixture takes the path): the file is spooled, signed through SignStream (the mesh's
 * streaming writer at this size) and the signed file sent from disk. c2pa-rs, with the mesh root
 * as the only anchor, judges it; the spool is empty after every request, answered or refused.
 */

const THRESHOLD = 64 * 1024;
const MANIFEST = JSON.stringify({
  claim_generator: 'MirrorStage/1.0',
  title: 'Long take',
  assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture' }] } }],
});

let mesh: TestMesh;
let listener: RunningListener;
let agent: Agent;
let key: string;
/** A CDN stand-in for `file_url`: HTTPS on 127.0.0.1 with a certificate of the mesh's CA. */
let fileServer: HttpsServer;
let fileServerUrl: string;
/** What the file server saw: the spooled file's size while it was still sending, and bytes sent per path. */
const served = { spooledWhileSending: -1, bytes: new Map<string, number>() };

beforeAll(async () => {
  mesh = await createTestMesh({ MESH_STREAM_SIGN_THRESHOLD_BYTES: String(THRESHOLD) });
  const logger = pino({ level: 'silent' });
  const gateway = createGateway({
    clientsFor: createCallerClientsFactory({ localServices: mesh.config.services, routes: mesh.routes, interceptors: mesh.interceptors, remote: { urls: {}, caPem: mesh.pki.meshCa.pem } }),
    resolver: createIdentityResolver(mesh.db),
    engine: mesh.engine,
    audit: mesh.audit,
    logger,
    largeUploads: { thresholdBytes: THRESHOLD, spoolDir: path.join(mesh.config.dataDir, 'spool') },
    urlFetcher: createTestUrlFetcher({ allowHosts: ['127.0.0.1'], trustAnchorsPem: mesh.pki.meshCa.pem }),
  });
  fileServer = createHttpsServer({ cert: mesh.pki.server.pem, key: await readFile(mesh.pki.server.privateKeyPath, 'utf8') }, (req, res) => {
    void serveFile(req.url ?? '', res);
  });
  await new Promise<void>((resolve) => fileServer.listen(0, '127.0.0.1', resolve));
  fileServerUrl = `https://127.0.0.1:${(fileServer.address() as AddressInfo).port}`;
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
  const admin = createClient(RegistryService, mesh.transport(ADMIN_IDENTITY));
  const { projectId } = await admin.createProject({ name: 'Large uploads' });
  ({ key } = await admin.createApiKey({ projectId, name: 'large', scopes: ['sign', 'verify'], maxAssetBytes: 4_000_000n }));
});
afterAll(() => cleanUp({ fileServer: () => fileServer && closeServer(fileServer), listener: () => listener?.close(0), agent: () => agent?.close(), mesh: () => mesh?.close() }));

const spooled = async () => readdir(path.join(mesh.config.dataDir, 'spool')).catch(() => []);

/** Writes `bytes` in pieces, waiting for the socket; stops when the client goes away. Returns what was sent. */
async function sendInPieces(res: ServerResponse, bytes: Uint8Array, pieceBytes = 64 * 1024, sent = 0): Promise<number> {
  for (let at = 0; at < bytes.length && !res.destroyed; at += pieceBytes) {
    const piece = bytes.subarray(at, at + pieceBytes);
    sent += piece.length;
    if (!res.write(piece)) await new Promise((resolve) => (res.once('drain', resolve), res.once('close', resolve)));
  }
  return sent;
}

/** The largest spooled upload's size now (0: none). */
async function spooledBytes(): Promise<number> {
  const sizes = await Promise.all((await spooled()).map((dir) => stat(path.join(mesh.config.dataDir, 'spool', dir, 'asset')).then((s) => s.size, () => 0)));
  return Math.max(0, ...sizes);
}

async function serveFile(url: string, res: ServerResponse): Promise<void> {
  if (url === '/long-take.wav') {
    // Chunked (no Content-Length). Half way, the first half must be in the gateway's spool file.
    const wav = readMedia('sample1.wav');
    res.writeHead(200, { 'content-type': 'audio/wav' });
    const half = Math.floor(wav.length / 2);
    let sent = await sendInPieces(res, wav.subarray(0, half));
    for (let waited = 0; waited < 5000 && (await spooledBytes()) < THRESHOLD; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    served.spooledWhileSending = await spooledBytes();
    sent = await sendInPieces(res, wav.subarray(half), 64 * 1024, sent);
    served.bytes.set(url, sent);
    res.end();
  } else if (url === '/endless.wav') {
    // 64 MiB without a Content-Length: refused once it passes the key's limit, never read whole.
    res.writeHead(200, { 'content-type': 'audio/wav' });
    const piece = new Uint8Array(1024 * 1024);
    let sent = 0;
    for (let i = 0; i < 64 && !res.destroyed; i++) sent = await sendInPieces(res, piece, piece.length, sent);
    served.bytes.set(url, sent);
    res.end();
  } else if (url === '/announced.wav') {
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(50 * 1024 * 1024) });
    res.write(new Uint8Array(1024)); // and never more: refused on the header alone
  } else if (url === '/small.webp') {
    res.writeHead(200, { 'content-type': 'image/webp' }).end(readMedia('sample1.webp'));
  } else {
    res.writeHead(404).end();
  }
}

function signForm(file: Uint8Array, fields: Record<string, string>): FormData {
  const form = new FormData();
  form.append('file', new Blob([file]), 'long-take.wav');
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return form;
}
const post = (form: FormData) => undiciFetch(`${listener.url}/v1/sign`, { method: 'POST', body: form, headers: { authorization: `Bearer ${key}` }, dispatcher: agent });

describe('MirrorStage sign of a large upload', () => {
  it('spools it, signs it through SignStream and sends the signed file from disk: Trusted in c2pa-rs, Invalid once altered', async () => {
    const original = readMedia('sample1.wav');
    const res = await post(signForm(original, { manifest: MANIFEST, format: 'audio/wav' }));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="long-take-signed.wav"');
    const signed = new Uint8Array(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(signed.length);
    expect(res.headers.get('x-asset-id')).toMatch(/\S/);
    expect(res.headers.get('x-sign-intent')).toBe('create');
    const report = await mesh.engine!.read({ format: 'audio/wav', asset: signed, trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(report?.validationState, JSON.stringify(report?.errors)).toBe('Trusted');
    expect(report?.activeManifestLabel).toBe(res.headers.get('x-manifest-label'));
    expect(report?.title).toBe('Long take');
    // The streaming writer made it (c2pa-rs names itself in what it writes).
    expect(report?.manifestStoreJson).not.toContain('org.contentauth.c2pa_rs');
    const altered = await mesh.engine!.read({ format: 'audio/wav', asset: flipMediaByte(original, signed), trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(altered?.validationState).toBe('Invalid');
    expect(altered?.errors.map((e) => e.code)).toContain('assertion.dataHash.mismatch');
    expect(await spooled()).toEqual([]);
  });

  it('streams a file_url above the threshold into the spool and signs it through SignStream: Trusted in c2pa-rs, the spool emptied', async () => {
    const original = readMedia('sample1.wav');
    const form = new FormData();
    form.append('file_url', `${fileServerUrl}/long-take.wav`);
    form.append('manifest', MANIFEST);
    form.append('format', 'audio/wav');
    const res = await post(form);
    expect(res.status, await res.clone().text()).toBe(200);
    const signed = new Uint8Array(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(signed.length);
    // Half the file was on disk, not in the gateway's memory, before the rest was sent.
    expect(served.spooledWhileSending).toBeGreaterThanOrEqual(THRESHOLD);
    expect(served.spooledWhileSending).toBeLessThan(original.length);
    const report = await mesh.engine!.read({ format: 'audio/wav', asset: signed, trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(report?.validationState, JSON.stringify(report?.errors)).toBe('Trusted');
    expect(report?.activeManifestLabel).toBe(res.headers.get('x-manifest-label'));
    // SignStream's streaming writer made it, not unary Sign's engine (which names c2pa-rs).
    expect(report?.manifestStoreJson).not.toContain('org.contentauth.c2pa_rs');
    const altered = await mesh.engine!.read({ format: 'audio/wav', asset: flipMediaByte(original, signed), trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(altered?.validationState).toBe('Invalid');
    expect(await spooled()).toEqual([]);
  });

  it('refuses a file_url over the key\'s limit with 413 while it streams (or on its Content-Length), the spool removed; a small one stays in memory', async () => {
    const formFor = (file: string) => {
      const form = new FormData();
      form.append('file_url', `${fileServerUrl}/${file}`);
      form.append('manifest', MANIFEST);
      form.append('format', file.endsWith('.webp') ? 'image/webp' : 'audio/wav');
      return form;
    };
    const endless = await post(formFor('endless.wav'));
    expect(endless.status).toBe(413);
    expect(((await endless.json()) as { error: string }).error).toMatch(/^file_url: 127\.0\.0\.1:\d+ sent more than 4000000 bytes, the largest asset this caller may sign/);
    // The server stops sending once the gateway has gone away (well before the end).
    await expect.poll(() => served.bytes.get('/endless.wav'), { timeout: 5000 }).toBeLessThan(64 * 1024 * 1024);
    const announced = await post(formFor('announced.wav'));
    expect(announced.status).toBe(413);
    expect(((await announced.json()) as { error: string }).error).toMatch(/^file_url: 127\.0\.0\.1:\d+ announces 52428800 bytes/);
    expect(await spooled()).toEqual([]);
    // Under the threshold: fetched into memory and signed by unary Sign (the engine), as before.
    const small = await post(formFor('small.webp'));
    expect(small.status, await small.clone().text()).toBe(200);
    const report = await mesh.engine!.read({ format: 'image/webp', asset: new Uint8Array(await small.arrayBuffer()), trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(report?.validationState).toBe('Trusted');
    expect(report?.manifestStoreJson).toContain('org.contentauth.c2pa_rs');
  });

  it('refuses a spooled upload with a bad form (400) and a manifest the streaming path cannot write (failed_precondition), the spool removed', async () => {
    const wav = readMedia('sample1.wav');
    const missing = await post(signForm(wav, { format: 'audio/wav' }));
    expect(missing.status).toBe(400);
    expect(await missing.text()).toMatch(/manifest/);
    const ingredients = JSON.stringify({ ...JSON.parse(MANIFEST), ingredients: [{ title: 'b-roll.wav', relationship: 'componentOf' }] });
    const refused = await post(signForm(wav, { manifest: ingredients, format: 'audio/wav' }));
    expect(refused.status, await refused.clone().text()).toBe(400);
    expect(await refused.text()).toMatch(/ingredients/);
    expect(await spooled()).toEqual([]);
  });
});
