import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import 'reflect-metadata';
import { Code, ConnectError } from '@connectrpc/connect';
import { createFileSigner, generateKeyPair, writePrivateKeyPem } from '@c2pa-mesh/key-custody';
import { issueCertificate, pemToDer } from '@c2pa-mesh/pki';
import { RegistryService } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, removeDir } from '../support/cleanup.js';
import { meshClient } from '../support/mesh-clients.js';
import { startMeshProcess, type MeshProcess } from '../support/start-mesh.js';

const run = promisify(execFile);
// With DATABASE_URL the mesh process shares that database with other runs: names must not collide.
const unique = (name: string) => `${name} ${randomBytes(4).toString('hex')}`;

/** What a curl user does: JSON over HTTPS with the key in the Authorization header. */
async function curlJson(mesh: MeshProcess, method: string, body: object, key: string): Promise<{ status: number; headers: string; json: any }> {
  const { stdout } = await run('curl', [
    '-sS', '-i', '--cacert', mesh.files.meshCa,
    '-H', `Authorization: Bearer ${key}`, '-H', 'Content-Type: application/json',
    '-d', JSON.stringify(body), `${mesh.url}/c2pamesh.registry.v1.RegistryService/${method}`,
  ]);
  const split = stdout.indexOf('\r\n\r\n');
  const headers = stdout.slice(0, split);
  return { status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(headers)?.[1]), headers, json: JSON.parse(stdout.slice(split + 4)) };
}

describe('the registry in a running mesh: keys with curl, client certificates over mTLS', () => {
  let mesh: MeshProcess;
  let scratch: string;
  const admin = () => meshClient(RegistryService, mesh.url, { caPath: mesh.files.meshCa, certPath: mesh.files.adminCert, keyPath: mesh.files.adminKey });

  beforeAll(async () => {
    mesh = await startMeshProcess();
    scratch = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-registry-e2e-'));
  });
  afterAll(() => cleanUp({ mesh: () => mesh?.stop(), scratch: () => removeDir(scratch) }));

  it('creates a project and a key with the admin certificate; the key works with curl until revoked', async () => {
    const { projectId } = await admin().createProject({ name: unique('Newsroom') });
    const { key, keyId } = await admin().createApiKey({ projectId, name: 'CMS', scopes: ['registry.read', 'registry.write'] });

    const ok = await curlJson(mesh, 'GetProject', {}, key);
    expect(ok.status).toBe(200);
    expect(ok.json.project).toMatchObject({ projectId });
    expect(ok.json.project.name).toMatch(/^Newsroom /);
    expect(ok.headers).toMatch(/x-request-id: req_/i);

    // The same key over gRPC.
    const grpc = meshClient(RegistryService, mesh.url, { caPath: mesh.files.meshCa, apiKey: key }, 'grpc');
    expect((await grpc.listAssets({})).assets).toEqual([]);

    const denied = await curlJson(mesh, 'CreateProject', { name: 'x' }, key);
    expect(denied.status).toBe(403);
    expect(denied.json.code).toBe('permission_denied');

    await admin().revokeApiKey({ keyId, reason: 'rotated out' });
    const refused = await curlJson(mesh, 'GetProject', {}, key);
    expect(refused.status).toBe(401);
    expect(refused.json).toMatchObject({ code: 'unauthenticated' });
    expect(refused.json.message).toMatch(/revoked/);
  });

  it('answers over-limit calls with HTTP 429 and Retry-After', async () => {
    const { projectId } = await admin().createProject({ name: unique('Throttled') });
    const { key } = await admin().createApiKey({ projectId, name: 'slow', scopes: ['registry.read'], requestsPerMinute: 2 });
    expect((await curlJson(mesh, 'GetProject', {}, key)).status).toBe(200);
    expect((await curlJson(mesh, 'GetProject', {}, key)).status).toBe(200);
    const limited = await curlJson(mesh, 'GetProject', {}, key);
    expect(limited.status).toBe(429);
    expect(limited.json.code).toBe('resource_exhausted');
    expect(Number(/retry-after: (\d+)/i.exec(limited.headers)?.[1])).toBeGreaterThanOrEqual(1);
  });

  it('binds a client certificate to a project: its mTLS calls act for the project until the binding goes', async () => {
    const { projectId } = await admin().createProject({ name: unique('Partner') });
    const meshCa = await createFileSigner(path.join(mesh.dataDir, 'pki', 'mesh-ca-key.pem'));
    const key = await generateKeyPair('ES256');
    const issued = await issueCertificate({
      profile: 'MESH_CLIENT',
      subject: { commonName: 'partner cms' },
      subjectPublicKeySpki: key.signer.publicKeySpki,
      issuer: { certificateDer: pemToDer(await readFile(mesh.files.meshCa, 'utf8'))[0], signer: meshCa },
      validityDays: 7,
    });
    const certPath = path.join(scratch, 'partner.pem');
    const keyPath = path.join(scratch, 'partner-key.pem');
    await writeFile(certPath, issued.pem);
    await writePrivateKeyPem(keyPath, key.privateKeyPkcs8);
    const partner = () => meshClient(RegistryService, mesh.url, { caPath: mesh.files.meshCa, certPath, keyPath });

    // Issued by the mesh CA but bound to nothing: authenticated, without scopes.
    expect(ConnectError.from(await partner().getProject({}).catch((e) => e)).code).toBe(Code.PermissionDenied);
    const { binding } = await admin().createClientBinding({ projectId, scopes: ['registry.read'], certificateMatch: { case: 'certificatePem', value: issued.pem } });
    expect((await partner().getProject({})).project?.projectId).toBe(projectId);
    const events = (await admin().listAuditEvents({ projectId, operation: 'GetProject' })).events;
    expect(events[0]).toMatchObject({ identityKind: 'CLIENT_CERTIFICATE', status: 'SUCCESS', clientIp: '127.0.0.1' });

    await admin().deleteClientBinding({ bindingId: binding!.bindingId });
    expect(ConnectError.from(await partner().getProject({}).catch((e) => e)).code).toBe(Code.PermissionDenied);
  });
});
