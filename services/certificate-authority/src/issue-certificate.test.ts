import { X509Certificate, constants, createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { SERVICE_SCOPES, createIdentityResolver } from '@c2pa-mesh/auth';
import { decryptPrivateKey, createMemorySigner } from '@c2pa-mesh/key-custody';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { OID, parseCertificate } from '@c2pa-mesh/pki';
import { CertificateAuthorityService } from '@c2pa-mesh/proto';
import { findCertificateById } from '@c2pa-mesh/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNING_SERVICE, createCsr, createProject, projectIdentity } from './testing.js';

let mesh: TestMesh;
let admin: Client<typeof CertificateAuthorityService>;

beforeAll(async () => {
  mesh = await createTestMesh();
  admin = createClient(CertificateAuthorityService, mesh.transport(ADMIN_IDENTITY));
  await createProject(mesh.db, 'prj_news');
  await createProject(mesh.db, 'prj_other');
});
afterAll(async () => {
  await mesh?.close();
});

async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  expect(error, 'the call should have failed').toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

describe('IssueCertificate: C2PA signing certificates', () => {
  it('issues from the C2PA intermediate with the C2PA profile, keeps the key sealed and returns none', async () => {
    const { certificate, privateKeyPem, pkcs12 } = await admin.issueCertificate({
      profile: 'C2PA_SIGNING',
      commonName: 'Newsroom Signer',
      organization: 'Example News',
      projectId: 'prj_news',
    });
    expect(certificate!.status).toBe('ACTIVE');
    expect(certificate!.keyHeldByCa).toBe(true);
    expect(certificate!.projectId).toBe('prj_news');
    expect(certificate!.keyAlgorithm).toBe('ES256');
    expect(privateKeyPem).toBe('');
    expect(pkcs12.length).toBe(0);

    const info = parseCertificate(certificate!.certificatePem);
    expect(info.subject.text).toBe('CN=Newsroom Signer,O=Example News');
    expect(info.isCa).toBe(false);
    expect(info.keyUsage).toEqual(['digitalSignature']);
    expect(info.extendedKeyUsage).toEqual(expect.arrayContaining([OID.c2paSigning, OID.documentSigning]));
    expect(info.ocspUrls).toEqual([`${mesh.config.pkiPublicUrl}/ocsp`]);
    expect(info.caIssuersUrls).toEqual([`${mesh.config.pkiPublicUrl}/ca/intermediate.pem`]);
    expect(info.crlUrls).toEqual([`${mesh.config.pkiPublicUrl}/ca/crl`]);
    // Random, positive, at least 64 bits.
    expect(certificate!.serialNumber).toBe(info.serialNumberHex);
    expect(BigInt(`0x${info.serialNumberHex}`) >= 1n << 63n).toBe(true);
    expect(parseInt(info.serialNumberHex.slice(0, 2), 16) & 0x80).toBe(0);
    // Chain: the intermediate, which issued it.
    const leaf = new X509Certificate(certificate!.certificatePem);
    expect(leaf.checkIssued(new X509Certificate(certificate!.chainPem))).toBe(true);
    expect(certificate!.chainPem.trim()).toBe(mesh.pki.c2paIntermediate.pem.trim());
    // Validity: the default 365 days.
    const days = (info.notAfter.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(364.9);
    expect(days).toBeLessThan(365.1);

    // The key is in the database only sealed, bound to this certificate id, and it is the certificate's key.
    const row = (await findCertificateById(mesh.db, certificate!.certificateId))!;
    expect(row.encrypted_private_key).not.toBeNull();
    expect(() => decryptPrivateKey(row.encrypted_private_key!, mesh.pki.keyEncryptionKey, 'crt_other')).toThrow();
    const signer = createMemorySigner(decryptPrivateKey(row.encrypted_private_key!, mesh.pki.keyEncryptionKey, row.id));
    expect(Buffer.from(signer.publicKeySpki).equals(Buffer.from(info.subjectPublicKeySpki))).toBe(true);
  });

  it.each(['ES256', 'ES384', 'PS256', 'ED25519'])('issues %s keys, and SignData signs with them', async (keyAlgorithm) => {
    const { certificate } = await admin.issueCertificate({ profile: 'C2PA_SIGNING', commonName: `${keyAlgorithm} signer`, keyAlgorithm });
    expect(certificate!.keyAlgorithm).toBe(keyAlgorithm);
    const publicKey = createPublicKey(certificate!.certificatePem);
    const data = new TextEncoder().encode('claim bytes');
    const service = createClient(CertificateAuthorityService, mesh.transport(SIGNING_SERVICE));
    const { signature, algorithm } = await service.signData({ certificateId: certificate!.certificateId, data, encoding: 'ieee-p1363' });
    expect(algorithm).toBe(keyAlgorithm);
    const hash = keyAlgorithm === 'ES384' ? 'sha384' : keyAlgorithm === 'ED25519' ? null : 'sha256';
    const options =
      keyAlgorithm === 'PS256'
        ? { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
        : keyAlgorithm.startsWith('ES')
          ? { key: publicKey, dsaEncoding: 'ieee-p1363' as const }
          : publicKey;
    expect(verify(hash, data, options, signature)).toBe(true);
    if (keyAlgorithm.startsWith('ES')) {
      const der = await service.signData({ certificateId: certificate!.certificateId, data, encoding: 'der' });
      expect(der.signature[0]).toBe(0x30);
      expect(verify(hash, data, { key: publicKey, dsaEncoding: 'der' }, der.signature)).toBe(true);
    }
  });

  it('issues from a CSR: the requester keeps its key, subject and SANs come from the CSR unless given', async () => {
    const csr = await createCsr({ name: 'CN=Partner Camera,O=Partner', sanDns: ['camera.partner.example'] });
    const { certificate } = await admin.issueCertificate({ profile: 'C2PA_SIGNING', csrPem: csr.pem });
    expect(certificate!.keyHeldByCa).toBe(false);
    expect(certificate!.subject).toBe('CN=Partner Camera,O=Partner');
    expect(certificate!.sanDns).toEqual(['camera.partner.example']);
    const info = parseCertificate(certificate!.certificatePem);
    expect(Buffer.from(info.subjectPublicKeySpki).equals(Buffer.from(csr.spki))).toBe(true);
    expect((await findCertificateById(mesh.db, certificate!.certificateId))!.encrypted_private_key).toBeNull();

    const renamed = await admin.issueCertificate({ profile: 'C2PA_SIGNING', csrPem: csr.pem, commonName: 'Renamed', sanDns: ['other.example'], validityDays: 30 });
    expect(renamed.certificate!.subject).toBe('CN=Renamed,O=Partner');
    expect(renamed.certificate!.sanDns).toEqual(['other.example']);
    expect((Date.parse(renamed.certificate!.notAfter) - Date.now()) / 86_400_000).toBeLessThan(30.01);

    // SignData refuses a key the CA does not hold.
    const service = createClient(CertificateAuthorityService, mesh.transport(SIGNING_SERVICE));
    const err = await failure(service.signData({ certificateId: certificate!.certificateId, data: new Uint8Array([1]) }));
    expect(err.code).toBe(Code.FailedPrecondition);
  });

  it('refuses bad CSRs, algorithms, profiles and validity periods with invalid_argument', async () => {
    const tampered = await createCsr({ name: 'CN=Tampered', tamper: true });
    const csr = await createCsr({ name: 'CN=Ok' });
    const cases: Array<[string, Parameters<typeof admin.issueCertificate>[0], RegExp]> = [
      ['tampered CSR', { profile: 'C2PA_SIGNING', csrPem: tampered.pem }, /signature does not verify/],
      ['not a CSR', { profile: 'C2PA_SIGNING', csrPem: 'hello' }, /CERTIFICATE REQUEST/],
      ['garbage in PEM', { profile: 'C2PA_SIGNING', csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n' }, /PKCS#10/],
      ['algorithm mismatch', { profile: 'C2PA_SIGNING', csrPem: csr.pem, keyAlgorithm: 'ES384' }, /ES384.*ES256/],
      ['unknown algorithm', { profile: 'C2PA_SIGNING', commonName: 'x', keyAlgorithm: 'RS1' }, /ES256, ES384, PS256 or ED25519/],
      ['unknown profile', { profile: 'ROOT_CA', commonName: 'x' }, /C2PA_SIGNING, MESH_CLIENT or MESH_SERVER/],
      ['empty profile', { profile: '', commonName: 'x' }, /C2PA_SIGNING, MESH_CLIENT or MESH_SERVER/],
      ['too long', { profile: 'C2PA_SIGNING', commonName: 'x', validityDays: 826 }, /between 1 and 825/],
      ['negative', { profile: 'C2PA_SIGNING', commonName: 'x', validityDays: -1 }, /between 1 and 825/],
      ['no common name', { profile: 'C2PA_SIGNING' }, /common_name is required/],
      ['control characters', { profile: 'C2PA_SIGNING', commonName: 'a\u0001b' }, /control characters/],
      ['bad DNS SAN', { profile: 'MESH_SERVER', commonName: 'x', sanDns: ['not a host'] }, /not a valid host name/],
      ['bad IP SAN', { profile: 'MESH_SERVER', commonName: 'x', sanIps: ['300.1.1.1'] }, /IPv4 or IPv6/],
      ['PKCS#12 password with a CSR', { profile: 'MESH_CLIENT', csrPem: csr.pem, pkcs12Password: 'long enough' }, /pkcs12_password applies only/],
      ['short PKCS#12 password', { profile: 'MESH_CLIENT', commonName: 'x', pkcs12Password: 'short' }, /8 to 1024 characters/],
    ];
    for (const [what, request, message] of cases) {
      const err = await failure(admin.issueCertificate(request));
      expect(err.code, what).toBe(Code.InvalidArgument);
      expect(err.rawMessage, what).toMatch(message);
    }
  });

  it('refuses SAN URIs in the mesh\'s own trust domain, from the request or from a CSR', async () => {
    for (const uri of ['spiffe://c2pa-mesh/admin', 'spiffe://c2pa-mesh/service/signing', 'SPIFFE://C2PA-MESH/admin', 'spiffe://c2pa-mesh']) {
      const err = await failure(admin.issueCertificate({ profile: 'MESH_CLIENT', commonName: 'evil', sanUris: [uri] }));
      expect(err.code, uri).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/reserved for the mesh's own identities/);
    }
    const csr = await createCsr({ name: 'CN=Sneaky', sanUris: ['spiffe://c2pa-mesh/admin'] });
    const err = await failure(admin.issueCertificate({ profile: 'MESH_CLIENT', csrPem: csr.pem }));
    expect(err.code).toBe(Code.InvalidArgument);
    // Other SPIFFE trust domains are the partner's business.
    const ok = await admin.issueCertificate({ profile: 'MESH_CLIENT', commonName: 'partner', sanUris: ['spiffe://partner.example/client/cms'] });
    expect(ok.certificate!.sanUris).toEqual(['spiffe://partner.example/client/cms']);
  });
});

describe('IssueCertificate: mesh client and server certificates', () => {
  it('returns a generated key once, as PEM and PKCS#12, stores none of it, and binds the client to its project', async () => {
    const response = await admin.issueCertificate({ profile: 'MESH_CLIENT', commonName: 'CMS publisher', projectId: 'prj_news', pkcs12Password: 'correct horse battery' });
    const { certificate } = response;
    expect(certificate!.profile).toBe('MESH_CLIENT');
    expect(certificate!.chainPem).toBe('');
    expect(response.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(response.pkcs12Password).toBe('correct horse battery');
    expect(response.pkcs12.length).toBeGreaterThan(500);
    const leaf = new X509Certificate(certificate!.certificatePem);
    expect(leaf.checkIssued(new X509Certificate(mesh.pki.meshCa.pem))).toBe(true);
    expect(leaf.checkPrivateKey(createPrivateKey(response.privateKeyPem))).toBe(true);
    const info = parseCertificate(certificate!.certificatePem);
    expect(info.extendedKeyUsage).toEqual([OID.clientAuth]);
    expect(info.ocspUrls).toEqual([]);

    const row = (await findCertificateById(mesh.db, certificate!.certificateId))!;
    expect(row.key_held_by_ca).toBe(false);
    expect(row.encrypted_private_key).toBeNull();

    const identity = await createIdentityResolver(mesh.db).resolve({
      certificate: { spkiSha256: info.spkiSha256Hex, sanUris: [], subject: info.subject.text, serialNumber: info.serialNumberHex },
    });
    expect(identity?.projectId).toBe('prj_news');
    expect([...identity!.scopes].sort()).toEqual(['registry.read', 'sign', 'verify']);
  });

  it('generates a PKCS#12 password when none is given, and issues server certificates with SANs', async () => {
    const client = await admin.issueCertificate({ profile: 'MESH_CLIENT', commonName: 'no password given' });
    expect(client.pkcs12Password.length).toBeGreaterThanOrEqual(20);
    const server = await admin.issueCertificate({ profile: 'MESH_SERVER', commonName: 'edge', sanDns: ['edge.internal'], sanIps: ['10.0.0.7'] });
    expect(server.certificate!.sanDns).toEqual(['edge.internal']);
    expect(server.certificate!.sanIps).toEqual(['10.0.0.7']);
    expect(parseCertificate(server.certificate!.certificatePem).extendedKeyUsage).toEqual([OID.serverAuth, OID.clientAuth]);
  });

  it('a project identity issues for its own project only, never server certificates, never more scopes than it has', async () => {
    const newsroom = createClient(CertificateAuthorityService, mesh.transport(projectIdentity('prj_news', ['ca.issue', 'verify'])));
    const own = await newsroom.issueCertificate({ profile: 'MESH_CLIENT', commonName: 'newsroom client' });
    expect(own.certificate!.projectId).toBe('prj_news');
    const info = parseCertificate(own.certificate!.certificatePem);
    const identity = await createIdentityResolver(mesh.db).resolve({
      certificate: { spkiSha256: info.spkiSha256Hex, sanUris: [], subject: info.subject.text, serialNumber: info.serialNumberHex },
    });
    expect([...identity!.scopes]).toEqual(['verify']);

    const other = await failure(newsroom.issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'x', projectId: 'prj_other' }));
    expect(other.code).toBe(Code.NotFound);
    const server = await failure(newsroom.issueCertificate({ profile: 'MESH_SERVER', commonName: 'x' }));
    expect(server.code).toBe(Code.PermissionDenied);
    const unknown = await failure(admin.issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'x', projectId: 'prj_missing' }));
    expect(unknown.code).toBe(Code.NotFound);

    // A SAN URI another project's client binding names would make the certificate act for that project.
    await mesh.db.insertInto('client_bindings').values({ id: 'cbd_x', project_id: 'prj_other', name: 'x', spki_sha256: null, san_uri: 'spiffe://other.example/client', scopes: '["sign"]' }).execute();
    const taken = await failure(newsroom.issueCertificate({ profile: 'MESH_CLIENT', commonName: 'x', sanUris: ['spiffe://other.example/client'] }));
    expect(taken.code).toBe(Code.PermissionDenied);

    const reader = createClient(CertificateAuthorityService, mesh.transport(projectIdentity('prj_news', ['registry.read'])));
    expect((await failure(reader.issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'x' }))).code).toBe(Code.PermissionDenied);
  });

  it('a mesh service (onboarding, beside the registry) issues only PENDING signing certificates with a key the CA keeps', async () => {
    const registry = createClient(
      CertificateAuthorityService,
      mesh.transport({ kind: 'SERVICE', id: 'spiffe://c2pa-mesh/service/registry', serviceName: 'registry', scopes: new Set(SERVICE_SCOPES.registry) }),
    );
    const refused = [
      { profile: 'MESH_CLIENT', commonName: 'x', projectId: 'prj_news', requireActivation: true },
      { profile: 'MESH_SERVER', commonName: 'x', requireActivation: true },
      { profile: 'C2PA_SIGNING', commonName: 'x', projectId: 'prj_news' },
      { profile: 'C2PA_SIGNING', commonName: 'x', requireActivation: true },
      { profile: 'C2PA_SIGNING', commonName: 'x', projectId: 'prj_news', requireActivation: true, sanDns: ['news.example'] },
    ];
    for (const request of refused) expect((await failure(registry.issueCertificate(request))).code, JSON.stringify(request)).toBe(Code.PermissionDenied);
    const issued = await registry.issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'Onboarded', projectId: 'prj_news', requireActivation: true });
    expect(issued.certificate).toMatchObject({ status: 'PENDING', projectId: 'prj_news', keyHeldByCa: true });
  });
});

