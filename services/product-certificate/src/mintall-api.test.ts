import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { RegistryService } from '@c2pa-mesh/proto';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createProject,
  independentlyVerifiedPayload,
  issueProjectSigner,
  productCertificates,
  projectIdentity,
  revokeCertificate,
  serveOverHttps,
  signedAndVerified,
  type MeshOverHttps,
} from './test-support/mintall-test-kit.js';

/**
 * Mintall's MC4P API through the real HTTP stack (TLS listener, gateway, services, database): the
 * requests of Mintall's API reference with only the base URL changed, every status code it
 * documents, its cache headers, and the JWT proof judged by node:crypto against the JWKS.
 */

let mesh: TestMesh;
let https: MeshOverHttps;
let projectId: string;
let otherProjectId: string;
let assetId: string;
let assetSha256: string;
let activeManifestLabel: string;
let signerCertificateId: string;
let imageId: string;

const API = '/mintall/api/v1';

async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  const error = await promise.then(() => undefined, (e: unknown) => ConnectError.from(e));
  expect(error, 'the call was expected to fail').toBeInstanceOf(ConnectError);
  return error!;
}

async function verify(id: string, body: unknown) {
  const res = await https.post(`${API}/mc4p/${id}/verify`, typeof body === 'string' ? body : JSON.stringify(body));
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

async function jwks() {
  return (await (await https.get('/.well-known/jwks.json')).json()) as { keys: Array<Record<string, unknown>> };
}

beforeAll(async () => {
  mesh = await createTestMesh();
  await mesh.engine!.warmup();
  https = await serveOverHttps(mesh);
  projectId = await createProject(mesh, 'Merchant');
  otherProjectId = await createProject(mesh, 'Other merchant');
  const signer = await issueProjectSigner(mesh, projectId, 'Merchant Product Photos');
  signerCertificateId = signer.certificateId;
  const signed = await signedAndVerified(mesh, projectId, { signerId: signer.certificateId });
  ({ assetId, assetSha256, activeManifestLabel } = signed);
  const created = await productCertificates(mesh, projectIdentity(projectId)).createProductCertificate({
    assetId,
    authorizedDomains: ['Merchant.Example.', 'bücher.example'],
    boundFields: { productId: 'gid://shopify/Product/1234567890', productUrl: 'https://merchant.example/products/modern-lamp', sku: 'LAMP-01' },
    assetUrl: 'https://cdn.merchant.example/lamp.jpg',
  });
  imageId = created.imageId;
}, 120_000);

afterAll(async () => {
  await https?.close();
  await mesh?.close();
});

describe('CreateProductCertificate', () => {
  it('returns a UUID and the full certificate, with domains case-folded, without the trailing dot, IDN in punycode', async () => {
    expect(imageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const { certificate } = await productCertificates(mesh, projectIdentity(projectId)).getProductCertificate({ imageId });
    expect(certificate?.authorizedDomains).toEqual(['merchant.example', 'xn--bcher-kva.example']);
    expect(certificate?.status).toBe('ACTIVE');
    expect(certificate?.projectId).toBe(projectId);
    expect(JSON.parse(certificate!.certificateJson).imageId).toBe(imageId);
  });

  it('refuses an asset the mesh has not verified, a hash record, and bad domains or fields', async () => {
    const client = productCertificates(mesh, projectIdentity(projectId));
    const unverified = await signedAndVerified(mesh, projectId, { verify: false, signerId: signerCertificateId });
    const notVerified = await failure(client.createProductCertificate({ assetId: unverified.assetId, authorizedDomains: ['merchant.example'] }));
    expect(notVerified.code).toBe(Code.FailedPrecondition);
    expect(notVerified.rawMessage).toMatch(/has not been verified by this mesh/);

    for (const domains of [[], ['https://merchant.example/x'], ['merchant.example:443'], ['127.0.0.1'], ['nodot']]) {
      const bad = await failure(client.createProductCertificate({ assetId, authorizedDomains: domains }));
      expect(bad.code, JSON.stringify(domains)).toBe(Code.InvalidArgument);
    }
    const badField = await failure(client.createProductCertificate({ assetId, authorizedDomains: ['merchant.example'], boundFields: { 'bad name': 'x' } }));
    expect(badField.code).toBe(Code.InvalidArgument);
    expect((await failure(client.createProductCertificate({ assetId: 'ast_unknown', authorizedDomains: ['merchant.example'] }))).code).toBe(Code.NotFound);
  });

  it('treats another project\'s asset and certificate as not found', async () => {
    const other = productCertificates(mesh, projectIdentity(otherProjectId));
    expect((await failure(other.createProductCertificate({ assetId, authorizedDomains: ['other.example'] }))).code).toBe(Code.NotFound);
    // One call at a time: each refusal is awaited before the next call starts.
    const calls = [
      () => other.getProductCertificate({ imageId }),
      () => other.pauseProductCertificate({ imageId }),
      () => other.revokeProductCertificate({ imageId }),
      () => other.updateProductCertificate({ imageId, authorizedDomains: ['other.example'] }),
    ];
    for (const call of calls) {
      expect((await failure(call())).code).toBe(Code.NotFound);
    }
    expect((await other.listProductCertificates({})).certificates).toEqual([]);
    const own = await productCertificates(mesh, projectIdentity(projectId)).listProductCertificates({});
    expect(own.certificates.map((c) => c.imageId)).toContain(imageId);
  });

  it('needs registry.write to create and registry.read to read', async () => {
    const reader = productCertificates(mesh, projectIdentity(projectId, ['registry.read']));
    expect((await failure(reader.createProductCertificate({ assetId, authorizedDomains: ['merchant.example'] }))).code).toBe(Code.PermissionDenied);
    expect((await failure(reader.pauseProductCertificate({ imageId }))).code).toBe(Code.PermissionDenied);
    expect((await reader.getProductCertificate({ imageId })).certificate?.imageId).toBe(imageId);
    const writerOnly = productCertificates(mesh, projectIdentity(projectId, ['sign']));
    expect((await failure(writerOnly.getProductCertificate({ imageId }))).code).toBe(Code.PermissionDenied);
  });
});

describe('GET mc4p/{image_id}/certificate', () => {
  it('answers the minimal certificate in Mintall\'s shape, cacheable with an ETag, 304 on If-None-Match', async () => {
    const res = await https.get(`${API}/mc4p/${imageId}/certificate`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toMatch(/public/);
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(await res.json()).toEqual({
      '@context': 'https://schema.org',
      '@type': 'DigitalDocument',
      imageId,
      verification: { authorizedDomains: ['merchant.example', 'xn--bcher-kva.example'], domainVerified: false, hasSignature: true },
    });
    const again = await https.get(`${API}/mc4p/${imageId}/certificate`, { 'if-none-match': etag! });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect((await https.get(`${API}/mc4p/${imageId}/certificate`, { 'if-none-match': '"something-else"' })).status).toBe(200);
  });

  it('answers the full JSON-LD certificate with the C2PA references and a JwtProof2020 proof that node:crypto verifies against the JWKS', async () => {
    const res = await https.get(`${API}/mc4p/${imageId}/certificate?full=true`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/ld\+json/);
    expect(res.headers.get('etag')).toBeTruthy();
    const full = (await res.json()) as Record<string, any>;
    expect(full['@context']).toContain('https://schema.org');
    expect(full['@type']).toBe('MediaObject');
    expect(full.imageId).toBe(imageId);
    expect(full.contentCredentials.dateIssued).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(full.contentCredentials.lastUpdated).toMatch(/Z$/);
    expect(full.contentCredentials.asset).toEqual({ url: 'https://cdn.merchant.example/lamp.jpg', sha256: assetSha256.slice('sha256:'.length), format: 'image/jpeg', sizeBytes: expect.any(Number) });
    expect(full.contentCredentials.activeManifest).toBe(activeManifestLabel);
    expect(full.contentCredentials.signer).toMatchObject({ name: 'Merchant Product Photos', organization: 'Mintall Test Merchant', certificateStatus: 'ACTIVE' });
    expect(['Valid', 'Trusted']).toContain(full.contentCredentials.validation.state);
    expect(full.context).toEqual({ productId: 'gid://shopify/Product/1234567890', productUrl: 'https://merchant.example/products/modern-lamp', sku: 'LAMP-01' });
    expect(full.verification).toEqual({ authorizedDomains: ['merchant.example', 'xn--bcher-kva.example'], domainVerified: false, hasSignature: true });
    expect(full.proof.type).toBe('JwtProof2020');
    expect(full.proof.jwt.split('.')).toHaveLength(3);

    const { header, payload } = independentlyVerifiedPayload(full.proof.jwt, await jwks());
    expect(header.alg).toBe('ES256');
    expect(payload.sub).toBe(imageId);
    expect(payload.mc4p.authorizedDomains).toEqual(['merchant.example', 'xn--bcher-kva.example']);
    expect(payload.mc4p.boundFields.productId).toBe('gid://shopify/Product/1234567890');
    expect(payload.mc4p.asset.sha256).toBe(assetSha256.slice('sha256:'.length));
    expect(payload.mc4p.activeManifest).toBe(activeManifestLabel);

    // A proof with a changed payload fails the same independent check.
    const published = await jwks();
    const [h, p, s] = full.proof.jwt.split('.');
    const forged = Buffer.from(p, 'base64url').toString('utf8').replace('"merchant.example"', '"evilmerchant.example"');
    expect(() => independentlyVerifiedPayload(`${h}.${Buffer.from(forged).toString('base64url')}.${s}`, published)).toThrow(/does not verify/);
  });

  it('answers 404 for an unknown or malformed image id, uncached', async () => {
    for (const id of ['5b749adb-f198-428f-a7af-4323f9c16297', 'not-a-uuid']) {
      const res = await https.get(`${API}/mc4p/${id}/certificate`);
      expect(res.status).toBe(404);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(((await res.json()) as any).errors[0].code).toBe('not_found');
    }
  });
});

describe('JWKS', () => {
  it('is published at both paths, without credentials, cacheable with an ETag', async () => {
    const root = await https.get('/.well-known/jwks.json');
    const mintall = await https.get(`${API}/.well-known/jwks.json`);
    expect(root.status).toBe(200);
    expect(mintall.status).toBe(200);
    expect(root.headers.get('cache-control')).toMatch(/public/);
    const body = (await root.json()) as { keys: Array<Record<string, unknown>> };
    const proofKeys = (await mintall.json()) as { keys: Array<Record<string, unknown>> };
    expect(proofKeys.keys.length).toBeGreaterThanOrEqual(1);
    for (const key of proofKeys.keys) {
      expect(key).toMatchObject({ use: 'sig', kid: expect.stringMatching(/^mc4p-/) });
      expect(key).not.toHaveProperty('d');
    }
    // The mesh's one JWKS holds the proof keys and the keys of people's access tokens.
    expect(body.keys.filter((key) => String(key.kid).startsWith('mc4p-'))).toEqual(proofKeys.keys);
    for (const key of body.keys) {
      expect(key).toMatchObject({ use: 'sig', kid: expect.stringMatching(/^(mc4p|account)-/) });
      expect(key).not.toHaveProperty('d');
    }
    expect((await https.get(`${API}/.well-known/jwks.json`, { 'if-none-match': mintall.headers.get('etag')! })).status).toBe(304);
    expect((await https.get('/.well-known/jwks.json', { 'if-none-match': root.headers.get('etag')! })).status).toBe(304);
  });
});

describe('POST mc4p/{image_id}/verify', () => {
  it('verifies the domain where the image was observed (Mintall\'s example request), never cached', async () => {
    const { status, headers, body } = await verify(imageId, { domain: 'merchant.example' });
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body).toMatchObject({
      verified: true,
      imageId,
      authorizedDomain: 'merchant.example',
      currentDomain: 'merchant.example',
      checks: { domainMatches: true, certificateConsistency: true },
      errors: [],
    });
    expect(body.warnings.map((w: any) => w.code)).toEqual(['domain_not_verified']);
  });

  it('case-folds the domain, strips a trailing dot, and compares IDNs in punycode', async () => {
    expect((await verify(imageId, { domain: 'MERCHANT.Example.' })).body.currentDomain).toBe('merchant.example');
    expect((await verify(imageId, { domain: 'MERCHANT.Example.' })).status).toBe(200);
    const idn = await verify(imageId, { domain: 'BÜCHER.example' });
    expect(idn.status).toBe(200);
    expect(idn.body.currentDomain).toBe('xn--bcher-kva.example');
    expect((await verify(imageId, { domain: 'xn--bcher-kva.example.' })).status).toBe(200);
  });

  it('checks a product id and a custom field (Mintall\'s context examples)', async () => {
    const product = await verify(imageId, { domain: 'merchant.example', verifyField: 'productId', fieldValue: 'gid://shopify/Product/1234567890' });
    expect(product.status).toBe(200);
    expect(product.body).toMatchObject({ verified: true, imageId, checks: { domainMatches: true, contextMatches: true } });
    const url = await verify(imageId, { domain: 'merchant.example', verifyField: 'productUrl', fieldValue: 'https://merchant.example/products/modern-lamp' });
    expect(url.status).toBe(200);
  });

  it('answers 400 for a body that is not JSON, misses the domain, or is malformed', async () => {
    for (const body of ['not json', '[]', JSON.stringify({}), JSON.stringify({ domain: '' }), JSON.stringify({ domain: 42 }), JSON.stringify({ domain: 'https://merchant.example/page' }), JSON.stringify({ domain: 'merchant.example', fieldValue: 'x' }), JSON.stringify({ domain: 'merchant.example', verifyField: 7 })]) {
      const res = await verify(imageId, body);
      expect(res.status, body).toBe(400);
      expect(res.body.verified).toBe(false);
      expect(res.body.errors[0].code).toBe('invalid_request');
    }
  });

  it('answers 403 for a domain the certificate does not authorize, and for a context mismatch', async () => {
    const other = await verify(imageId, { domain: 'reseller.example' });
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ verified: false, checks: { domainMatches: false }, errors: [{ code: 'domain_not_authorized' }] });
    // A subdomain is another domain.
    expect((await verify(imageId, { domain: 'shop.merchant.example' })).status).toBe(403);
    const mismatch = await verify(imageId, { domain: 'merchant.example', verifyField: 'productId', fieldValue: 'gid://shopify/Product/999' });
    expect(mismatch.status).toBe(403);
    expect(mismatch.body).toMatchObject({ verified: false, checks: { domainMatches: true, contextMatches: false }, errors: [{ code: 'context_mismatch' }] });
  });

  it('answers 422 for a field the certificate does not bind', async () => {
    const res = await verify(imageId, { domain: 'merchant.example', verifyField: 'gtin', fieldValue: '0123456789012' });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].code).toBe('unsupported_field');
  });

  it('answers 404 for an unknown image id', async () => {
    expect((await verify('5b749adb-f198-428f-a7af-4323f9c16297', { domain: 'merchant.example' })).status).toBe(404);
    expect((await verify('nope', { domain: 'merchant.example' })).status).toBe(404);
  });
});

describe('lifecycle on the public endpoints', () => {
  it('answers 402 while paused, on both endpoints, and 200 again once resumed', async () => {
    const client = productCertificates(mesh, projectIdentity(projectId));
    expect((await client.pauseProductCertificate({ imageId })).certificate?.status).toBe('PAUSED');
    const paused = await verify(imageId, { domain: 'merchant.example' });
    expect(paused.status).toBe(402);
    expect(paused.body.errors[0].code).toBe('certificate_paused');
    expect((await https.get(`${API}/mc4p/${imageId}/certificate`)).status).toBe(402);
    expect((await https.get(`${API}/mc4p/${imageId}/certificate?full=true`)).status).toBe(402);
    expect((await client.resumeProductCertificate({ imageId })).certificate?.status).toBe('ACTIVE');
    expect((await verify(imageId, { domain: 'merchant.example' })).status).toBe(200);
  });

  it('answers 422 when the stored proof no longer matches the certificate (tampered database row)', async () => {
    const client = productCertificates(mesh, projectIdentity(projectId));
    const { imageId: id } = await client.createProductCertificate({ assetId, authorizedDomains: ['merchant.example'] });
    // Someone with database access widens the domains without the proof key.
    await mesh.db.updateTable('product_certificates').set({ authorized_domains: JSON.stringify(['attacker.example', 'merchant.example']) }).where('id', '=', id).execute();
    const res = await verify(id, { domain: 'attacker.example' });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ verified: false, checks: { domainMatches: true, certificateConsistency: false } });
    expect(res.body.errors[0]).toMatchObject({ code: 'invalid_proof', message: expect.stringMatching(/authorizedDomains/) });
    // A proof that is not a JWS at all.
    await mesh.db.updateTable('product_certificates').set({ jwt: 'garbage' }).where('id', '=', id).execute();
    expect((await verify(id, { domain: 'merchant.example' })).status).toBe(422);
  });

  it('updates domains and fields with a fresh proof, and revocation answers 404', async () => {
    const client = productCertificates(mesh, projectIdentity(projectId));
    const { imageId: id } = await client.createProductCertificate({ assetId, authorizedDomains: ['merchant.example'], boundFields: { sku: 'A' } });
    const updated = await client.updateProductCertificate({ imageId: id, authorizedDomains: ['Shop.Example'], boundFields: { sku: 'B' }, replaceBoundFields: true });
    expect(updated.certificate?.authorizedDomains).toEqual(['shop.example']);
    expect(updated.certificate?.boundFields).toEqual({ sku: 'B' });
    expect((await verify(id, { domain: 'shop.example', verifyField: 'sku', fieldValue: 'B' })).status).toBe(200);
    expect((await verify(id, { domain: 'merchant.example' })).status).toBe(403);
    const full = JSON.parse(updated.certificate!.certificateJson);
    expect(independentlyVerifiedPayload(full.proof.jwt, await jwks()).payload.mc4p.authorizedDomains).toEqual(['shop.example']);

    expect((await client.revokeProductCertificate({ imageId: id })).certificate?.status).toBe('REVOKED');
    expect((await verify(id, { domain: 'shop.example' })).status).toBe(404);
    expect((await https.get(`${API}/mc4p/${id}/certificate`)).status).toBe(404);
    expect((await failure(client.resumeProductCertificate({ imageId: id }))).code).toBe(Code.FailedPrecondition);
    expect((await failure(client.updateProductCertificate({ imageId: id, authorizedDomains: ['x.example'] }))).code).toBe(Code.FailedPrecondition);
  });
});

describe('proof key rotation', () => {
  it('keeps a retired key in the JWKS while certificates signed with it are live, and drops it once they are re-issued', async () => {
    const client = productCertificates(mesh, projectIdentity(projectId));
    const before = await client.getProductCertificate({ imageId });
    const oldKid = before.certificate!.kid;
    const oldJwt = JSON.parse(before.certificate!.certificateJson).proof.jwt as string;

    const rotated = await productCertificates(mesh, ADMIN_IDENTITY).rotateProofKey({ algorithm: 'RS256' });
    expect(rotated.key?.algorithm).toBe('RS256');
    expect(rotated.key?.kid).not.toBe(oldKid);
    // Only the mesh operator rotates.
    expect((await failure(client.rotateProofKey({}))).code).toBe(Code.PermissionDenied);

    const published = await jwks();
    expect(published.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, rotated.key!.kid]));
    // The old certificate still verifies, independently and on the server.
    expect(independentlyVerifiedPayload(oldJwt, published).header.kid).toBe(oldKid);
    expect((await verify(imageId, { domain: 'merchant.example' })).status).toBe(200);

    // New certificates are signed with the new key, RS256.
    const fresh = await client.createProductCertificate({ assetId, authorizedDomains: ['merchant.example'] });
    const freshProof = JSON.parse(fresh.certificateJson).proof.jwt as string;
    expect(independentlyVerifiedPayload(freshProof, await jwks()).header).toMatchObject({ alg: 'RS256', kid: rotated.key!.kid });
    expect(JSON.parse(Buffer.from(freshProof.split('.')[0], 'base64url').toString()).alg).toBe('RS256');

    // Re-issue every live certificate still signed with the old key: the key leaves the JWKS.
    const live = (await client.listProductCertificates({ pageSize: 500 })).certificates.filter((c) => c.kid === oldKid && c.status !== 'REVOKED');
    for (const c of live) await client.updateProductCertificate({ imageId: c.imageId });
    const after = await jwks();
    expect(after.keys.map((k) => k.kid)).not.toContain(oldKid);
    expect(independentlyVerifiedPayload(JSON.parse((await client.getProductCertificate({ imageId })).certificate!.certificateJson).proof.jwt, after).header.kid).toBe(rotated.key!.kid);
    const keys = await client.listProofKeys({});
    expect(keys.keys.find((k) => k.kid === oldKid)).toMatchObject({ status: 'RETIRED', published: false });
    // Sealed at rest: the stored private key is not PKCS#8 in clear.
    const row = await mesh.db.selectFrom('product_certificate_keys').selectAll().where('kid', '=', oldKid).executeTakeFirstOrThrow();
    expect(Buffer.from(row.encrypted_private_key).subarray(0, 2).toString('latin1')).toBe('MK');
  });
});

describe('bound to provenance', () => {
  it('states a revoked signing certificate in the full certificate and in verify warnings', async () => {
    await revokeCertificate(mesh, signerCertificateId);
    const full = (await (await https.get(`${API}/mc4p/${imageId}/certificate?full=true`)).json()) as Record<string, any>;
    expect(full.contentCredentials.signer.certificateStatus).toBe('REVOKED');
    expect(full.contentCredentials.signer.revokedAt).toMatch(/Z$/);
    const res = await verify(imageId, { domain: 'merchant.example' });
    expect(res.status).toBe(200);
    expect(res.body.warnings.map((w: any) => w.code)).toContain('signing_certificate_revoked');
  });

  it('warns when the certified asset was deleted from the registry', async () => {
    const client = productCertificates(mesh, projectIdentity(projectId));
    const signed = await signedAndVerified(mesh, projectId);
    const { imageId: id } = await client.createProductCertificate({ assetId: signed.assetId, authorizedDomains: ['merchant.example'] });
    expect((await verify(id, { domain: 'merchant.example' })).body.warnings.map((w: any) => w.code)).not.toContain('asset_deleted');
    await createClient(RegistryService, mesh.transport(projectIdentity(projectId))).deleteAsset({ assetId: signed.assetId });
    const res = await verify(id, { domain: 'merchant.example' });
    expect(res.status).toBe(200);
    expect(res.body.warnings.map((w: any) => w.code)).toContain('asset_deleted');
  });
});
