import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ProductCertificateService, SigningService, VerificationService } from '@c2pa-mesh/proto';
import { createdManifest, readMedia } from '@c2pa-mesh/engine/test-support';
import { startDnsServer, type TestDnsServer } from '@c2pa-mesh/service-product-certificate/test-dns-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meshClient } from '../support/mesh-clients.js';
import { startMeshProcess, type MeshProcess } from '../support/start-mesh.js';
import { createProjectKey, curl } from './gateway-support.js';

const run = promisify(execFile);

/**
 * Mintall's API against a running mesh (`npm start`'s command), with curl as the client and its
 * example requests as printed but for the base URL; domain verification enforced and done through
 * an HTTPS well-known file served on loopback port 443 for a name a real DNS server resolves.
 */

const DOMAIN = 'shop.mc4p.test';
let scratch: string;
let dns: TestDnsServer;
let site: https.Server;
let siteAddress: string;
let wellKnown = '';
let mesh: MeshProcess;
let key: string;
let imageId: string;

/** A free loopback address on which port 443 can be bound (other runs may hold some). */
async function listenOnLoopback443(server: https.Server): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const address = `127.0.${Math.floor(Math.random() * 250) + 2}.${Math.floor(Math.random() * 250) + 2}`;
    const bound = await new Promise<boolean>((resolve) => {
      const onError = () => resolve(false);
      server.once('error', onError);
      server.listen(443, address, () => {
        server.off('error', onError);
        resolve(true);
      });
    });
    if (bound) return address;
  }
  throw new Error('no loopback address with port 443 free');
}

const base = () => `${mesh.url}/mintall`;
const curlJson = (args: string[]) => curl([...args, '--cacert', mesh.files.meshCa]);

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-mintall-e2e-'));
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'site-key.pem', '-out', 'site.pem', '-subj', `/CN=${DOMAIN}`, '-days', '1', '-addext', `subjectAltName=DNS:${DOMAIN}`], { cwd: scratch });
  site = https.createServer({ key: await readFile(path.join(scratch, 'site-key.pem')), cert: await readFile(path.join(scratch, 'site.pem')) }, (req, res) => {
    if (req.url === '/.well-known/c2pa-mesh-domain-verification.txt' && wellKnown !== '') res.writeHead(200, { 'content-type': 'text/plain' }).end(wellKnown);
    else res.writeHead(404).end();
  });
  siteAddress = await listenOnLoopback443(site);
  dns = await startDnsServer();
  dns.a.set(DOMAIN, siteAddress);
  mesh = await startMeshProcess({
    env: {
      NODE_EXTRA_CA_CERTS: path.join(scratch, 'site.pem'),
      MESH_VERIFY_URL_ALLOW_HOSTS: siteAddress,
      MESH_MC4P_DNS_SERVERS: dns.address,
      MESH_MC4P_DOMAIN_ENFORCEMENT: 'on',
    },
  });
  ({ key } = await createProjectKey(mesh, { name: 'Mintall merchant', scopes: ['sign', 'verify', 'registry.read', 'registry.write'] }));
  const credentials = { caPath: mesh.files.meshCa, apiKey: key };
  const signed = await meshClient(SigningService, mesh.url, credentials).sign({ asset: readMedia('no_manifest.jpg'), format: 'image/jpeg', manifestJson: createdManifest('Lamp') });
  await meshClient(VerificationService, mesh.url, credentials).verify({ asset: signed.signedAsset });
  ({ imageId } = await meshClient(ProductCertificateService, mesh.url, credentials).createProductCertificate({
    assetId: signed.assetId,
    authorizedDomains: [DOMAIN],
    boundFields: { productId: 'gid://shopify/Product/1234567890' },
  }));
}, 180_000);

afterAll(async () => {
  await mesh?.stop();
  await dns?.close();
  await new Promise((resolve) => (site?.listening ? site.close(resolve) : resolve(undefined)));
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('Mintall MC4P API on a running mesh, with curl', () => {
  it('fetches the certificate (minimal, full) and the JWKS as the API reference prints the requests', async () => {
    const minimal = await curlJson(['-X', 'GET', `${base()}/api/v1/mc4p/${imageId}/certificate`]);
    expect(minimal.status).toBe(200);
    expect(minimal.json()).toMatchObject({ '@type': 'DigitalDocument', imageId, verification: { authorizedDomains: [DOMAIN], hasSignature: true } });
    const full = await curlJson(['-X', 'GET', `${base()}/api/v1/mc4p/${imageId}/certificate?full=true`]);
    expect(full.status).toBe(200);
    expect(full.json().proof.type).toBe('JwtProof2020');
    const jwks = await curlJson(['-X', 'GET', `${base()}/api/v1/.well-known/jwks.json`]);
    expect(jwks.status).toBe(200);
    expect(jwks.json().keys[0]).toMatchObject({ use: 'sig', alg: 'ES256' });
    const cached = await curlJson(['-H', `If-None-Match: ${jwks.headers.etag}`, `${base()}/api/v1/.well-known/jwks.json`]);
    expect(cached.status).toBe(304);
  });

  it('answers 412 until the owner publishes the well-known file, then verifies the domain over HTTPS', async () => {
    const request = ['-X', 'POST', `${base()}/api/v1/mc4p/${imageId}/verify`, '-H', 'Content-Type: application/json', '-d', `{"domain": "${DOMAIN}"}`];
    const before = await curlJson(request);
    expect(before.status).toBe(412);
    expect(before.headers['cache-control']).toBe('no-store');

    const client = meshClient(ProductCertificateService, mesh.url, { caPath: mesh.files.meshCa, apiKey: key });
    const challenge = await client.startDomainVerification({ domain: DOMAIN });
    expect(challenge.wellKnownUrl).toBe(`https://${DOMAIN}/.well-known/c2pa-mesh-domain-verification.txt`);
    const missing = await client.checkDomainVerification({ domain: DOMAIN });
    expect(missing.verified).toBe(false);
    expect(missing.problems.join(' ')).toMatch(/HTTP 404/);
    wellKnown = challenge.wellKnownContent;
    const check = await client.checkDomainVerification({ domain: DOMAIN });
    expect(check).toMatchObject({ verified: true, method: 'HTTPS_WELL_KNOWN' });

    const after = await curlJson(request);
    expect(after.status).toBe(200);
    expect(after.json()).toMatchObject({ verified: true, imageId, authorizedDomain: DOMAIN, currentDomain: DOMAIN, checks: { domainMatches: true, certificateConsistency: true }, warnings: [], errors: [] });
    const product = await curlJson(['-X', 'POST', `${base()}/api/v1/mc4p/${imageId}/verify`, '-H', 'Content-Type: application/json', '-d', `{"domain": "${DOMAIN}", "verifyField": "productId", "fieldValue": "gid://shopify/Product/1234567890"}`]);
    expect(product.status).toBe(200);
    expect((await curlJson(['-X', 'POST', `${base()}/api/v1/mc4p/${imageId}/verify`, '-H', 'Content-Type: application/json', '-d', '{"domain": "merchant.example"}'])).status).toBe(403);
  });
});
