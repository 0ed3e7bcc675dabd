import { Code, ConnectError } from '@connectrpc/connect';
import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDnsServer, type TestDnsServer } from './test-support/dns-server.js';
import { createProject, issueProjectSigner, productCertificates, projectIdentity, serveOverHttps, signedAndVerified, type MeshOverHttps } from './test-support/mintall-test-kit.js';

/**
 * Domain verification with enforcement on: verify answers 412 until the certificate's owner
 * proves the domain, here with a TXT record served by a real DNS server on loopback. The HTTPS
 * well-known route is refused for a host that resolves to loopback: the one SSRF policy applies.
 */

let dns: TestDnsServer;
let mesh: TestMesh;
let https: MeshOverHttps;
let projectId: string;
let imageId: string;

async function verify(domain: string) {
  const res = await https.post(`/mintall/api/v1/mc4p/${imageId}/verify`, JSON.stringify({ domain }));
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  const error = await promise.then(() => undefined, (e: unknown) => ConnectError.from(e));
  expect(error, 'the call was expected to fail').toBeInstanceOf(ConnectError);
  return error!;
}

beforeAll(async () => {
  dns = await startDnsServer();
  vi.stubEnv('MESH_MC4P_DOMAIN_ENFORCEMENT', 'on');
  vi.stubEnv('MESH_MC4P_DNS_SERVERS', dns.address);
  mesh = await createTestMesh();
  vi.unstubAllEnvs();
  await mesh.engine!.warmup();
  https = await serveOverHttps(mesh);
  projectId = await createProject(mesh, 'Verified merchant');
  const signer = await issueProjectSigner(mesh, projectId, 'Verified Merchant Photos');
  const signed = await signedAndVerified(mesh, projectId, { signerId: signer.certificateId });
  ({ imageId } = await productCertificates(mesh, projectIdentity(projectId)).createProductCertificate({ assetId: signed.assetId, authorizedDomains: ['shop.test'] }));
}, 120_000);

afterAll(async () => {
  await https?.close();
  await mesh?.close();
  await dns?.close();
});

describe('domain verification', () => {
  it('answers 412 for an authorized domain its owner has not verified, 403 still first for an unauthorized one', async () => {
    const res = await verify('shop.test');
    expect(res.status).toBe(412);
    expect(res.body).toMatchObject({ verified: false, checks: { domainMatches: true }, errors: [{ code: 'domain_verification_required' }] });
    expect((await verify('elsewhere.test')).status).toBe(403);
  });

  it('reports what is missing, and refuses to fetch the well-known file from a loopback address', async () => {
    const client = productCertificates(mesh, projectIdentity(projectId));
    expect((await failure(client.checkDomainVerification({ domain: 'shop.test' }))).code).toBe(Code.FailedPrecondition);
    const challenge = await client.startDomainVerification({ domain: 'SHOP.test.' });
    expect(challenge).toMatchObject({ domain: 'shop.test', dnsRecordName: '_c2pa-mesh-challenge.shop.test', wellKnownUrl: 'https://shop.test/.well-known/c2pa-mesh-domain-verification.txt', verified: false });
    expect(challenge.dnsRecordValue).toMatch(/^c2pa-mesh-domain-verification=[A-Za-z0-9_-]{32}$/);
    // The same challenge when asked again.
    expect((await client.startDomainVerification({ domain: 'shop.test' })).dnsRecordValue).toBe(challenge.dnsRecordValue);

    dns.a.set('shop.test', '127.0.0.1');
    dns.txt.set('_c2pa-mesh-challenge.shop.test', ['c2pa-mesh-domain-verification=someone-elses-token']);
    const check = await client.checkDomainVerification({ domain: 'shop.test' });
    expect(check.verified).toBe(false);
    expect(check.problems).toHaveLength(2);
    expect(check.problems[0]).toMatch(/^DNS: .*none is "c2pa-mesh-domain-verification=/);
    expect(check.problems[1]).toMatch(/^HTTPS: .*127\.0\.0\.1.*loopback/);
    expect((await verify('shop.test')).status).toBe(412);
  });

  it('verifies the domain by its DNS TXT record; verify then answers 200 and the certificate says domainVerified', async () => {
    const client = productCertificates(mesh, projectIdentity(projectId));
    const challenge = await client.startDomainVerification({ domain: 'shop.test' });
    dns.txt.set('_c2pa-mesh-challenge.shop.test', ['v=spf1 -all', challenge.dnsRecordValue]);
    const check = await client.checkDomainVerification({ domain: 'shop.test' });
    expect(check).toMatchObject({ domain: 'shop.test', verified: true, method: 'DNS_TXT', problems: [] });
    const res = await verify('shop.test');
    expect(res.status).toBe(200);
    expect(res.body.warnings).toEqual([]);
    const minimal = (await (await https.get(`/mintall/api/v1/mc4p/${imageId}/certificate`)).json()) as Record<string, any>;
    expect(minimal.verification.domainVerified).toBe(true);
  });

  it('keeps verifications per project: another project must prove the domain itself', async () => {
    const otherProject = await createProject(mesh, 'Another merchant');
    const other = productCertificates(mesh, projectIdentity(otherProject));
    expect((await other.startDomainVerification({ domain: 'shop.test' })).verified).toBe(false);
    expect((await failure(other.startDomainVerification({ domain: 'shop.test', projectId }))).code).toBe(Code.NotFound);
  });
});
