import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createClient } from '@connectrpc/connect';
import { createIdentityResolver } from '@c2pa-mesh/auth';
import { createCallerClientsFactory } from '@c2pa-mesh/clients';
import { flipMediaByte, readMedia } from '@c2pa-mesh/engine/test-support';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { RegistryService } from '@c2pa-mesh/proto';
import { startTlsListener, type RunningListener } from '@c2pa-mesh/server';
import { pino } from 'pino';
import { Agent, FormData, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../../../test/support/cleanup.js';
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
  const admin = createClient(RegistryService, mesh.transport(ADMIN_IDENTITY));
  const { projectId } = await admin.createProject({ name: 'Large uploads' });
  ({ key } = await admin.createApiKey({ projectId, name: 'large', scopes: ['sign', 'verify'], maxAssetBytes: 4_000_000n }));
});
afterAll(() => cleanUp({ listener: () => listener?.close(0), agent: () => agent?.close(), mesh: () => mesh?.close() }));

const spooled = async () => readdir(path.join(mesh.config.dataDir, 'spool')).catch(() => []);

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
