import { Code, ConnectError, type Client } from '@connectrpc/connect';
import { CertificateAuthorityService, RegistryService } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../support/cleanup.js';
import { meshClient, type ClientCredentials } from '../support/mesh-clients.js';
import { startMeshProcess, type MeshProcess } from '../support/start-mesh.js';
import { createScratch, type Scratch } from './ca-support.js';

async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  expect(error, 'the call should have failed').toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

/** Issuance through a running mesh: CSRs from `openssl req`, PKCS#12 read by `openssl pkcs12`, certificates used for mTLS. */
describe('certificate issuance end to end', () => {
  let mesh: MeshProcess;
  let scratch: Scratch;
  let admin: ClientCredentials;
  let ca: Client<typeof CertificateAuthorityService>;

  beforeAll(async () => {
    mesh = await startMeshProcess();
    scratch = await createScratch();
    admin = { caPath: mesh.files.meshCa, certPath: mesh.files.adminCert, keyPath: mesh.files.adminKey };
    ca = meshClient(CertificateAuthorityService, mesh.url, admin);
  });
  afterAll(() => cleanUp({ mesh: () => mesh?.stop(), scratch: () => scratch?.dispose() }));

  it.each([
    ['EC P-256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'ES256'],
    ['EC P-384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], 'ES384'],
    ['RSA 2048', ['-newkey', 'rsa:2048'], 'PS256'],
    ['Ed25519', ['-newkey', 'ed25519'], 'ED25519'],
  ])('issues a C2PA signing certificate for an `openssl req` CSR with a %s key', async (_, keyFlags, algorithm) => {
    const name = algorithm.toLowerCase();
    const made = await scratch.openssl([
      'req', '-new', ...keyFlags, '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`,
      '-subj', `/O=Example News/CN=Camera ${algorithm}`, '-addext', 'subjectAltName=DNS:camera.example.com',
    ]);
    expect(made.code, made.output).toBe(0);
    const csrPem = new TextDecoder().decode(await scratch.read(`${name}.csr`));
    const { certificate } = await ca.issueCertificate({ profile: 'C2PA_SIGNING', csrPem });
    expect(certificate!.keyAlgorithm).toBe(algorithm);
    expect(certificate!.keyHeldByCa).toBe(false);
    expect(certificate!.subject).toBe(`CN=Camera ${algorithm},O=Example News`);
    expect(certificate!.sanDns).toEqual(['camera.example.com']);
    await scratch.write(`${name}.pem`, certificate!.certificatePem);

    const verified = await scratch.openssl(['verify', '-CAfile', mesh.files.c2paRoot, '-untrusted', mesh.files.c2paChain, `${name}.pem`]);
    expect(verified.stdout.trim(), verified.output).toBe(`${name}.pem: OK`);
    // The certificate certifies the CSR's key, which never left the requester.
    const fromCertificate = await scratch.openssl(['x509', '-in', `${name}.pem`, '-noout', '-pubkey']);
    const fromKey = await scratch.openssl(['pkey', '-in', `${name}-key.pem`, '-pubout']);
    expect(fromCertificate.stdout).toBe(fromKey.stdout);
    const text = (await scratch.openssl(['x509', '-in', `${name}.pem`, '-noout', '-text'])).stdout;
    expect(text).toContain('1.3.6.1.4.1.62558.2.1');
    expect(text).toContain(`OCSP - URI:${mesh.pkiUrl}/ocsp`);
    expect(text).toContain(`URI:${mesh.pkiUrl}/ca/crl`);
  });

  it('gives a client certificate with a generated key as PEM and PKCS#12; it authenticates over mTLS until revoked', async () => {
    const issued = await ca.issueCertificate({ profile: 'MESH_CLIENT', commonName: 'Partner CMS', organization: 'Partner' });
    expect(issued.privateKeyPem).toMatch(/BEGIN PRIVATE KEY/);
    await scratch.write('client.p12', issued.pkcs12);

    const info = await scratch.openssl(['pkcs12', '-in', 'client.p12', '-passin', `pass:${issued.pkcs12Password}`, '-noout', '-info']);
    expect(info.code, info.output).toBe(0);
    expect(info.output).toContain('MAC: sha256');
    const wrong = await scratch.openssl(['pkcs12', '-in', 'client.p12', '-passin', 'pass:wrong password', '-noout']);
    expect(wrong.code).not.toBe(0);
    // The key and certificate as a client would take them out of the PKCS#12.
    expect((await scratch.openssl(['pkcs12', '-in', 'client.p12', '-passin', `pass:${issued.pkcs12Password}`, '-nodes', '-nocerts', '-out', 'client-key.pem'])).code).toBe(0);
    expect((await scratch.openssl(['pkcs12', '-in', 'client.p12', '-passin', `pass:${issued.pkcs12Password}`, '-clcerts', '-nokeys', '-out', 'client.pem'])).code).toBe(0);
    const chain = await scratch.openssl(['pkcs12', '-in', 'client.p12', '-passin', `pass:${issued.pkcs12Password}`, '-cacerts', '-nokeys']);
    expect(chain.stdout).toContain('c2pa-mesh Mesh CA');

    const client = meshClient(CertificateAuthorityService, mesh.url, { caPath: mesh.files.meshCa, certPath: scratch.file('client.pem'), keyPath: scratch.file('client-key.pem') });
    // Authenticated by the mesh CA; bound to no project it holds no scopes, so only authenticated-only calls pass.
    const { rootPem } = await client.getCertificateChain({ profile: 'C2PA_SIGNING' });
    expect(rootPem).toContain('BEGIN CERTIFICATE');
    expect((await failure(client.listCertificates({}))).code).toBe(Code.PermissionDenied);

    await ca.revokeCertificate({ certificateId: issued.certificate!.certificateId, reason: 3 });
    const refused = await failure(meshClient(CertificateAuthorityService, mesh.url, { caPath: mesh.files.meshCa, certPath: scratch.file('client.pem'), keyPath: scratch.file('client-key.pem') }).getCertificateChain({}));
    expect(refused.code).toBe(Code.Unauthenticated);
    expect(refused.rawMessage).toMatch(/revoked/);
    // The same connection is refused too: identities are resolved per call.
    expect((await failure(client.getCertificateChain({}))).code).toBe(Code.Unauthenticated);
  });

  it('binds a client certificate issued for a project to it, with the project\'s scopes; a project key issues only for its own project', async () => {
    const registry = meshClient(RegistryService, mesh.url, admin);
    const { projectId } = await registry.createProject({ name: 'E2E newsroom' });
    const { projectId: otherProjectId } = await registry.createProject({ name: 'E2E other' });

    const issued = await ca.issueCertificate({ profile: 'MESH_CLIENT', commonName: 'Newsroom publisher', projectId });
    await scratch.write('bound.pem', issued.certificate!.certificatePem);
    await scratch.write('bound-key.pem', issued.privateKeyPem);
    const bound = meshClient(CertificateAuthorityService, mesh.url, { caPath: mesh.files.meshCa, certPath: scratch.file('bound.pem'), keyPath: scratch.file('bound-key.pem') });
    // `sign` is one of the bound scopes: the project's client may time-stamp.
    const tsq = await scratch.openssl(['ts', '-query', '-digest', 'aa'.repeat(32), '-sha256', '-out', 'bound.tsq']);
    expect(tsq.code, tsq.output).toBe(0);
    expect((await bound.timestamp({ timestampQuery: await scratch.read('bound.tsq') })).status).toBe('GRANTED');
    const listed = await bound.listCertificates({});
    expect(listed.certificates.map((c) => c.certificateId)).toContain(issued.certificate!.certificateId);
    expect(listed.certificates.every((c) => c.projectId === projectId)).toBe(true);

    const { key } = await registry.createApiKey({ projectId, name: 'issuer', scopes: ['ca.issue', 'ca.revoke'] });
    const projectKey = meshClient(CertificateAuthorityService, mesh.url, { caPath: mesh.files.meshCa, apiKey: key });
    const own = await projectKey.issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'Newsroom signer' });
    expect(own.certificate!.projectId).toBe(projectId);
    expect((await failure(projectKey.issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'x', projectId: otherProjectId }))).code).toBe(Code.NotFound);
    const foreign = await ca.issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'Other signer', projectId: otherProjectId });
    expect((await failure(projectKey.revokeCertificate({ certificateId: foreign.certificate!.certificateId, reason: 1 }))).code).toBe(Code.NotFound);
    expect((await failure(projectKey.issueCertificate({ profile: 'MESH_SERVER', commonName: 'x' }))).code).toBe(Code.PermissionDenied);
  });

  it('refuses every bad input with a code and a message a person can act on', async () => {
    const cases: Array<[string, () => Promise<unknown>, Code, RegExp]> = [
      ['bad CSR', () => ca.issueCertificate({ profile: 'C2PA_SIGNING', csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----' }), Code.InvalidArgument, /CSR|PEM|PKCS#10/],
      ['bad profile', () => ca.issueCertificate({ profile: 'ROOT_CA', commonName: 'x' }), Code.InvalidArgument, /C2PA_SIGNING, MESH_CLIENT or MESH_SERVER/],
      ['reserved SAN', () => ca.issueCertificate({ profile: 'MESH_CLIENT', commonName: 'x', sanUris: ['spiffe://c2pa-mesh/admin'] }), Code.InvalidArgument, /reserved/],
      ['too long', () => ca.issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'x', validityDays: 1000 }), Code.InvalidArgument, /825/],
      ['unknown project', () => ca.issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'x', projectId: 'prj_nope' }), Code.NotFound, /prj_nope/],
      ['reason 7', () => ca.revokeCertificate({ certificateId: 'crt_any', reason: 7 }), Code.InvalidArgument, /CRLReason/],
      ['reason 11', () => ca.revokeCertificate({ certificateId: 'crt_any', reason: 11 }), Code.InvalidArgument, /CRLReason/],
      ['unknown id', () => ca.revokeCertificate({ certificateId: 'crt_missing', reason: 1 }), Code.NotFound, /crt_missing/],
      ['unknown id (activate)', () => ca.activateCertificate({ certificateId: 'crt_missing' }), Code.NotFound, /crt_missing/],
    ];
    for (const [what, call, code, message] of cases) {
      const err = await failure(call());
      expect(err.code, what).toBe(code);
      expect(err.rawMessage, what).toMatch(message);
    }
    const issued = await ca.issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'Twice' });
    await ca.revokeCertificate({ certificateId: issued.certificate!.certificateId, reason: 0 });
    expect((await failure(ca.revokeCertificate({ certificateId: issued.certificate!.certificateId, reason: 0 }))).code).toBe(Code.FailedPrecondition);
    // The process is still up and answering.
    expect((await ca.getCertificateChain({})).rootPem).toContain('BEGIN CERTIFICATE');
  });
});
