import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { flipMediaByte, readMedia } from '@c2pa-mesh/engine/test-support';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import {
  createProject,
  issueProjectSigner,
  productCertificates,
  projectIdentity,
  serveOverHttps,
  signedAndVerified,
} from '@c2pa-mesh/service-product-certificate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '@c2pa-mesh/cli';

/**
 * `c2pa-mesh mc4p verify` offline: the certificate and the JWKS are fetched once over HTTPS, the
 * listener is closed, and every check runs from files with no mesh to ask.
 */

let mesh: TestMesh;
let dir: string;

async function run(args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const code = await runCli(['node', 'c2pa-mesh', 'mc4p', 'verify', ...args], { stdout, stderr, env: {}, cwd: dir });
  return { code, out, err };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-mc4p-cli-'));
  mesh = await createTestMesh();
  await mesh.engine!.warmup();
  const projectId = await createProject(mesh, 'Offline merchant');
  const signer = await issueProjectSigner(mesh, projectId, 'Offline Merchant Photos');
  const signed = await signedAndVerified(mesh, projectId, { signerId: signer.certificateId });
  const { imageId } = await productCertificates(mesh, projectIdentity(projectId)).createProductCertificate({
    assetId: signed.assetId,
    authorizedDomains: ['merchant.example'],
    boundFields: { productId: 'gid://shopify/Product/1234567890', sku: 'LAMP-01' },
  });
  const https = await serveOverHttps(mesh);
  try {
    await writeFile(path.join(dir, 'certificate.json'), await (await https.get(`/mintall/api/v1/mc4p/${imageId}/certificate?full=true`)).text());
    await writeFile(path.join(dir, 'jwks.json'), await (await https.get('/mintall/api/v1/.well-known/jwks.json')).text());
  } finally {
    await https.close();
  }
  await writeFile(path.join(dir, 'lamp.jpg'), signed.signedAsset);
  await writeFile(path.join(dir, 'altered.jpg'), flipMediaByte(readMedia('no_manifest.jpg'), signed.signedAsset));
  await writeFile(path.join(dir, 'c2pa-root.pem'), mesh.pki.c2paRoot.pem);
  // A key set that does not hold the signing key: a rotated-away or forged JWKS.
  const rotated = await productCertificates(mesh, ADMIN_IDENTITY).rotateProofKey({});
  await writeFile(path.join(dir, 'other-jwks.json'), JSON.stringify({ keys: [JSON.parse(rotated.key!.publicJwk)] }));
}, 120_000);

afterAll(async () => {
  await mesh?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('c2pa-mesh mc4p verify (offline)', () => {
  it('minimal: the proof against the cached JWKS and the domain, case-folded', async () => {
    const result = await run(['certificate.json', 'lamp.jpg', '--domain', 'Merchant.Example.', '--profile', 'minimal', '--jwks', 'jwks.json']);
    expect(result.err).toBe('');
    expect(result.out).toMatch(/verified \(minimal profile\)/);
    expect(result.code).toBe(0);
    const wrong = await run(['certificate.json', 'lamp.jpg', '--domain', 'reseller.example', '--profile', 'minimal', '--jwks', 'jwks.json']);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toMatch(/reseller\.example is not among merchant\.example/);
  });

  it('standard: bound fields', async () => {
    expect((await run(['certificate.json', 'lamp.jpg', '--domain', 'merchant.example', '--field', 'productId=gid://shopify/Product/1234567890', '--field', 'sku=LAMP-01', '--jwks', 'jwks.json'])).code).toBe(0);
    const mismatch = await run(['certificate.json', 'lamp.jpg', '--domain', 'merchant.example', '--field', 'productId=gid://shopify/Product/1', '--jwks', 'jwks.json', '--json']);
    expect(mismatch.code).toBe(1);
    const report = JSON.parse(mismatch.out);
    expect(report.verified).toBe(false);
    expect(report.checks.find((c: any) => c.name === 'field productId')).toMatchObject({ ok: false });
    expect((await run(['certificate.json', 'lamp.jpg', '--domain', 'merchant.example', '--field', 'gtin=1', '--jwks', 'jwks.json'])).out).toMatch(/binds no field gtin/);
  });

  it('full: C2PA verification of the image bytes, which must be the certified asset', async () => {
    const ok = await run(['certificate.json', 'lamp.jpg', '--domain', 'merchant.example', '--profile', 'full', '--jwks', 'jwks.json', '--trust-anchors', 'c2pa-root.pem', '--json']);
    expect(ok.code, ok.out + ok.err).toBe(0);
    expect(JSON.parse(ok.out).checks.find((c: any) => c.name === 'c2pa').detail).toBe('C2PA validation: Trusted');
    const altered = await run(['certificate.json', 'altered.jpg', '--domain', 'merchant.example', '--profile', 'full', '--jwks', 'jwks.json', '--trust-anchors', 'c2pa-root.pem']);
    expect(altered.code).toBe(1);
    expect(altered.out).toMatch(/is not the certified asset's/);
    expect(altered.out).toMatch(/C2PA validation: Invalid \(assertion\.dataHash\.mismatch\)/);
  });

  it('fails when the JWKS lacks the key, and asks for a JWKS rather than fetching one', async () => {
    const other = await run(['certificate.json', 'lamp.jpg', '--domain', 'merchant.example', '--profile', 'minimal', '--jwks', 'other-jwks.json']);
    expect(other.code).toBe(1);
    expect(other.out).toMatch(/does not verify against other-jwks\.json/);
    const none = await run(['certificate.json', 'lamp.jpg', '--domain', 'merchant.example']);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/--jwks is required/);
  });
});
