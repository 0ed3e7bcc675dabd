import net from 'node:net';
import path from 'node:path';
import type { Client } from '@connectrpc/connect';
import { CertificateAuthorityService } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../support/cleanup.js';
import { meshClient } from '../support/mesh-clients.js';
import { startMeshProcess, type MeshProcess } from '../support/start-mesh.js';
import { createScratch, type Scratch } from './ca-support.js';

/**
 * The OCSP responder of a mesh started as `npm start` does, judged by an independent client:
 * `openssl ocsp` must verify its answers against the C2PA root alone and read good / revoked.
 */
describe('OCSP responder (RFC 6960) against openssl', () => {
  let mesh: MeshProcess;
  let scratch: Scratch;
  let ca: Client<typeof CertificateAuthorityService>;

  beforeAll(async () => {
    mesh = await startMeshProcess();
    scratch = await createScratch();
    ca = meshClient(CertificateAuthorityService, mesh.url, { caPath: mesh.files.meshCa, certPath: mesh.files.adminCert, keyPath: mesh.files.adminKey });
    await scratch.write('intermediate.pem', await (await fetch(`${mesh.pkiUrl}/ca/intermediate.pem`)).text());
  });
  afterAll(() => cleanUp({ mesh: () => mesh?.stop(), scratch: () => scratch?.dispose() }));

  /** Issues a C2PA signing certificate over mTLS and writes it to `<name>.pem`. */
  async function issueLeaf(name: string) {
    const { certificate } = await ca.issueCertificate({ profile: 'C2PA_SIGNING', commonName: `OCSP e2e ${name}`, organization: 'Example News' });
    await scratch.write(`${name}.pem`, certificate!.certificatePem);
    return certificate!;
  }

  const ocspOverHttp = (leaf: string, ...flags: string[]) =>
    scratch.openssl(['ocsp', '-issuer', 'intermediate.pem', '-cert', `${leaf}.pem`, '-url', `${mesh.pkiUrl}/ocsp`, '-CAfile', mesh.files.c2paRoot, '-resp_text', ...flags]);

  it('answers good for an active certificate and revoked right after RevokeCertificate (POST, with a nonce)', async () => {
    const leaf = await issueLeaf('leaf');
    const good = await ocspOverHttp('leaf');
    expect(good.code, good.output).toBe(0);
    expect(good.stderr).toContain('Response verify OK');
    expect(good.stdout).toContain('leaf.pem: good');
    expect(good.output).not.toContain('WARNING: no nonce');
    expect(good.stdout).toMatch(/Next Update: /);

    await ca.revokeCertificate({ certificateId: leaf.certificateId, reason: 1 });
    const revoked = await ocspOverHttp('leaf');
    expect(revoked.stderr).toContain('Response verify OK');
    expect(revoked.stdout).toContain('leaf.pem: revoked');
    expect(revoked.stdout).toContain('Reason: keyCompromise');
  });

  it('serves pre-signed answers to nonce-less requests and drops them the moment the status changes', async () => {
    const leaf = await issueLeaf('cached');
    const first = await ocspOverHttp('cached', '-no_nonce');
    expect(first.stderr).toContain('Response verify OK');
    expect(first.stdout).toContain('cached.pem: good');
    await ca.revokeCertificate({ certificateId: leaf.certificateId, reason: 5 });
    const after = await ocspOverHttp('cached', '-no_nonce');
    expect(after.stdout).toContain('cached.pem: revoked');
    expect(after.stdout).toContain('Reason: cessationOfOperation');
  });

  it('answers GET /ocsp/{base64 request}, URL-encoded or base64url, with caching headers', async () => {
    await issueLeaf('get');
    const request = await scratch.openssl(['ocsp', '-issuer', 'intermediate.pem', '-sha256', '-cert', 'get.pem', '-no_nonce', '-reqout', 'get-req.der']);
    expect(request.code, request.output).toBe(0);
    const der = Buffer.from(await scratch.read('get-req.der'));
    for (const [form, encoded] of [['base64', encodeURIComponent(der.toString('base64'))], ['base64url', der.toString('base64url')]]) {
      const response = await fetch(`${mesh.pkiUrl}/ocsp/${encoded}`);
      expect(response.status, form).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/ocsp-response');
      expect(response.headers.get('cache-control')).toMatch(/max-age=\d+/);
      expect(response.headers.get('etag')).toBeTruthy();
      expect(response.headers.get('last-modified')).toBeTruthy();
      await scratch.write(`get-resp-${form}.der`, new Uint8Array(await response.arrayBuffer()));
      const read = await scratch.openssl(['ocsp', '-respin', `get-resp-${form}.der`, '-issuer', 'intermediate.pem', '-sha256', '-cert', 'get.pem', '-CAfile', mesh.files.c2paRoot]);
      expect(read.stderr, form).toContain('Response verify OK');
      expect(read.stdout, form).toContain('get.pem: good');
    }
  });

  it('answers garbage with malformedRequest, and keeps serving after clients connect and hang up', async () => {
    const garbage = await fetch(`${mesh.pkiUrl}/ocsp`, { method: 'POST', body: 'this is not DER', headers: { 'content-type': 'application/ocsp-request' } });
    expect(garbage.status).toBe(200);
    await scratch.write('garbage-resp.der', new Uint8Array(await garbage.arrayBuffer()));
    const read = await scratch.openssl(['ocsp', '-respin', 'garbage-resp.der', '-resp_text', '-noverify']);
    expect(read.output.toLowerCase()).toContain('responder error: malformedrequest');

    // The stock `openssl ocsp` responder spins on exactly this; ours must not notice.
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect(mesh.pkiPort, '127.0.0.1', () => socket.destroy());
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
    }
    const idle = net.connect(mesh.pkiPort, '127.0.0.1');
    await issueLeaf('after');
    const after = await ocspOverHttp('after');
    idle.destroy();
    expect(after.stderr).toContain('Response verify OK');
    expect(after.stdout).toContain('after.pem: good');
  });

  it('signs with a delegated responder certificate (OCSPSigning, ocsp-nocheck) and time-stamps with a timeStamping-only TSA certificate', async () => {
    const pki = path.dirname(mesh.files.c2paRoot);
    const responder = (await scratch.openssl(['x509', '-in', path.join(pki, 'ocsp-responder.pem'), '-noout', '-text'])).stdout;
    expect(responder).toMatch(/X509v3 Extended Key Usage: \n\s+OCSP Signing\n/);
    expect(responder).toContain('OCSP No Check');
    expect(responder).toContain('CA:FALSE');
    expect(responder).toMatch(/Issuer: O = c2pa-mesh, CN = c2pa-mesh C2PA Signing CA/);
    const tsa = (await scratch.openssl(['x509', '-in', path.join(pki, 'tsa.pem'), '-noout', '-text'])).stdout;
    expect(tsa).toMatch(/X509v3 Extended Key Usage: critical\n\s+Time Stamping\n/);
    expect(tsa).toContain('CA:FALSE');
  });

  it('CheckStatus returns a signed response that openssl verifies, ready for stapling', async () => {
    const leaf = await issueLeaf('staple');
    const status = await ca.checkStatus({ certificateId: leaf.certificateId });
    expect(status.status).toBe('GOOD');
    await scratch.write('staple.der', status.ocspResponse);
    const read = await scratch.openssl(['ocsp', '-respin', 'staple.der', '-issuer', 'intermediate.pem', '-cert', 'staple.pem', '-CAfile', mesh.files.c2paRoot, '-resp_text']);
    expect(read.stderr).toContain('Response verify OK');
    expect(read.stdout).toContain('staple.pem: good');
    // The responder certificate travels with the response (c2pa-rs ignores staples without it).
    expect(read.stdout).toContain('c2pa-mesh OCSP Responder');
  });
});
