import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import 'reflect-metadata';
import { Code, ConnectError } from '@connectrpc/connect';
import { generateKeyPair } from '@c2pa-mesh/key-custody';
import { issueCertificate, toPem } from '@c2pa-mesh/pki';
import { Health, SigningService } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, removeDir } from '../support/cleanup.js';
import { meshClient } from '../support/mesh-clients.js';
import { REPO_ROOT, startMeshProcess, type MeshProcess } from '../support/start-mesh.js';

const run = promisify(execFile);
const BUF = path.join(REPO_ROOT, 'node_modules/.bin/buf');

describe('the mesh started as `npm start` does, in one process', () => {
  let mesh: MeshProcess;
  let scratch: string;
  beforeAll(async () => {
    mesh = await startMeshProcess();
    scratch = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-e2e-scratch-'));
  });
  afterAll(() => cleanUp({ mesh: () => mesh?.stop(), scratch: () => removeDir(scratch) }));

  const admin = () => ({ caPath: mesh.files.meshCa, certPath: mesh.files.adminCert, keyPath: mesh.files.adminKey });

  it('prints the ready line with the URLs and the files the contract lists, keys 0600', () => {
    expect(mesh.readyLine).toMatch(/^mesh ready /);
    expect(mesh.url).toBe(`https://127.0.0.1:${mesh.port}`);
    expect(mesh.pkiUrl).toBe(`http://127.0.0.1:${mesh.pkiPort}`);
    for (const file of Object.values(mesh.files)) expect(statSync(file).isFile()).toBe(true);
    expect(path.relative(mesh.dataDir, mesh.files.meshCa)).toBe('pki/mesh-ca.pem');
    expect(statSync(mesh.files.adminKey).mode & 0o777).toBe(0o600);
    for (const key of ['mesh-ca-key.pem', 'c2pa-root-key.pem', 'c2pa-intermediate-key.pem', 'ocsp-responder-key.pem', 'tsa-key.pem', 'server-key.pem']) {
      expect(statSync(path.join(mesh.dataDir, 'pki', key)).mode & 0o777).toBe(0o600);
    }
  });

  it('answers ListSigners over Connect (HTTP/2 and HTTP/1.1), gRPC and gRPC-Web with the admin certificate', async () => {
    for (const [protocol, httpVersion] of [['connect', '2'], ['connect', '1.1'], ['grpc', '2'], ['grpc-web', '2'], ['grpc-web', '1.1']] as const) {
      const client = meshClient(SigningService, mesh.url, admin(), protocol, httpVersion);
      const { signers } = await client.listSigners({});
      expect(signers, `${protocol} over HTTP/${httpVersion}`).toHaveLength(1);
      expect(signers[0].isDefault).toBe(true);
    }
  });

  it('serves JSON over HTTP/1.1 to curl, with x-request-id on every response', async () => {
    const { stdout } = await run('curl', [
      '-sS', '-i', '--http1.1', '--cacert', mesh.files.meshCa, '--cert', mesh.files.adminCert, '--key', mesh.files.adminKey,
      '-H', 'content-type: application/json', '-d', '{}', `${mesh.url}/c2pamesh.signing.v1.SigningService/ListSigners`,
    ]);
    expect(stdout).toMatch(/^HTTP\/1\.1 200/);
    expect(stdout).toMatch(/x-request-id: req_/i);
    const body = JSON.parse(stdout.slice(stdout.indexOf('\r\n\r\n') + 4));
    expect(body.signers[0].algorithm).toBe('es256');

    const unknown = await run('curl', ['-sS', '-i', '--cacert', mesh.files.meshCa, '-H', 'content-type: application/json', '-d', '{}', `${mesh.url}/no.such.Service/Method`]);
    expect(unknown.stdout).toMatch(/x-request-id: req_/i);
  });

  it('works with `buf curl` and no .proto files (reflection)', async () => {
    const tls = ['--cacert', mesh.files.meshCa, '--cert', mesh.files.adminCert, '--key', mesh.files.adminKey];
    const list = await run(BUF, ['curl', ...tls, '--list-services', mesh.url]);
    expect(list.stdout.split('\n')).toEqual(expect.arrayContaining([
      'c2pamesh.signing.v1.SigningService',
      'c2pamesh.verification.v1.VerificationService',
      'c2pamesh.certificateauthority.v1.CertificateAuthorityService',
      'c2pamesh.registry.v1.RegistryService',
      'grpc.health.v1.Health',
    ]));
    const signers = await run(BUF, ['curl', ...tls, '--protocol', 'grpc', `${mesh.url}/c2pamesh.signing.v1.SigningService/ListSigners`]);
    expect(JSON.parse(signers.stdout).signers).toHaveLength(1);
    const health = await run(BUF, ['curl', ...tls, `${mesh.url}/grpc.health.v1.Health/Check`]);
    expect(JSON.parse(health.stdout)).toEqual({ status: 'SERVING' });
  });

  it('answers reflection without credentials (it describes the public API), and nothing else', async () => {
    const list = await run('npx', ['--no-install', 'buf', 'curl', '--cacert', mesh.files.meshCa, '--list-services', mesh.url], { cwd: REPO_ROOT });
    expect(list.stdout.split('\n')).toEqual(expect.arrayContaining([
      'c2pamesh.signing.v1.SigningService',
      'c2pamesh.registry.v1.RegistryService',
      'grpc.reflection.v1.ServerReflection',
    ]));
    const methods = await run(BUF, ['curl', '--cacert', mesh.files.meshCa, '--list-methods', mesh.url]);
    expect(methods.stdout.split('\n')).toContain('c2pamesh.signing.v1.SigningService/ListSigners');
    // The descriptors are public; the calls they describe are not.
    const refused = await run(BUF, ['curl', '--cacert', mesh.files.meshCa, `${mesh.url}/c2pamesh.signing.v1.SigningService/ListSigners`]).catch((e) => e as { code: number; stderr: string });
    expect((refused as { code: number }).code).not.toBe(0);
    expect((refused as { stderr: string }).stderr).toMatch(/unauthenticated/);
  });

  it('refuses a call without identity (Health and reflection excepted)', async () => {
    const anonymous = { caPath: mesh.files.meshCa };
    expect((await meshClient(Health, mesh.url, anonymous).check({})).status).toBe(1);
    const err = await meshClient(SigningService, mesh.url, anonymous).listSigners({}).catch((e) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
    const bad = await meshClient(SigningService, mesh.url, { ...anonymous, apiKey: 'c2m_not-a-real-key' }).listSigners({}).catch((e) => ConnectError.from(e));
    expect((bad as ConnectError).code).toBe(Code.Unauthenticated);
  });

  it('refuses a client certificate from another CA, and keeps serving', async () => {
    const foreignCa = await generateKeyPair('ES256');
    const ca = await issueCertificate({ profile: 'MESH_CA', subject: { commonName: 'Foreign CA' }, subjectPublicKeySpki: foreignCa.signer.publicKeySpki, issuer: { selfSigned: foreignCa.signer }, validityDays: 30 });
    const clientKey = await generateKeyPair('ES256');
    const clientCert = await issueCertificate({
      profile: 'MESH_CLIENT',
      subject: { commonName: 'intruder' },
      subjectPublicKeySpki: clientKey.signer.publicKeySpki,
      issuer: { certificateDer: ca.der, signer: foreignCa.signer },
      validityDays: 30,
      san: { uri: ['spiffe://c2pa-mesh/admin'] },
    });
    const certPath = path.join(scratch, 'foreign.pem');
    const keyPath = path.join(scratch, 'foreign-key.pem');
    await writeFile(certPath, clientCert.pem);
    await writeFile(keyPath, toPem(clientKey.privateKeyPkcs8, 'PRIVATE KEY'), { mode: 0o600 });
    const err = await meshClient(SigningService, mesh.url, { caPath: mesh.files.meshCa, certPath, keyPath }).listSigners({}).catch((e) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    // The TLS layer accepts the handshake (API-key callers have no certificate) and the listener
    // then closes the connection, so the client sees a transport error rather than an RPC code.
    await expect.poll(() => mesh.output(), { timeout: 5000 }).toMatch(/client certificate refused/);
    // The listener is unharmed.
    expect((await meshClient(SigningService, mesh.url, admin()).listSigners({})).signers).toHaveLength(1);
  });

  it('serves the relying-party endpoints without credentials', async () => {
    expect(await (await fetch(`${mesh.pkiUrl}/healthz`)).text()).toBe('ok\n');
    const root = await fetch(`${mesh.pkiUrl}/ca/root.pem`);
    expect(root.status).toBe(200);
    expect(await root.text()).toBe(readFileSync(mesh.files.c2paRoot, 'utf8'));
    const chain = await (await fetch(`${mesh.pkiUrl}/ca/chain.pem`)).text();
    expect(chain).toBe(readFileSync(mesh.files.c2paChain, 'utf8'));
    expect((await fetch(`${mesh.pkiUrl}/nothing-here`)).status).toBe(404);
  });

  it('reuses the data dir on restart: same PKI, same default signer', async () => {
    const client = meshClient(SigningService, mesh.url, admin());
    const before = (await client.listSigners({})).signers[0].id;
    const meshCa = readFileSync(mesh.files.meshCa, 'utf8');
    const root = readFileSync(mesh.files.c2paRoot, 'utf8');
    await mesh.stop({ keepDataDir: true });
    const again = await startMeshProcess({ dataDir: mesh.dataDir, databaseUrl: mesh.databaseUrl, env: { MESH_PORT: String(mesh.port), PKI_HTTP_PORT: String(mesh.pkiPort) } });
    try {
      expect(readFileSync(again.files.meshCa, 'utf8')).toBe(meshCa);
      expect(readFileSync(again.files.c2paRoot, 'utf8')).toBe(root);
      const after = (await meshClient(SigningService, again.url, admin()).listSigners({})).signers;
      expect(after.map((s) => s.id)).toEqual([before]);
      expect(again.output()).not.toMatch(/certificate created/);
    } finally {
      await again.stop();
      // Both starts were told to keep the data dir (the first to restart on it, the second was
      // given it), so neither removes it.
      await rm(mesh.dataDir, { recursive: true, force: true });
    }
  });
});
