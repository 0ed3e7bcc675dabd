import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import * as pkijs from 'pkijs';
import { createIdentityResolver } from '@c2pa-mesh/auth';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { parseCertificate } from '@c2pa-mesh/pki';
import { CertificateAuthorityService } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNING_SERVICE, createProject, projectIdentity, readOcspResponse } from './testing.js';

let mesh: TestMesh;
let admin: Client<typeof CertificateAuthorityService>;
let service: Client<typeof CertificateAuthorityService>;

beforeAll(async () => {
  mesh = await createTestMesh();
  admin = createClient(CertificateAuthorityService, mesh.transport(ADMIN_IDENTITY));
  service = createClient(CertificateAuthorityService, mesh.transport(SIGNING_SERVICE));
  await createProject(mesh.db, 'prj_a');
  await createProject(mesh.db, 'prj_b');
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

/** The CRL's entries by serial: reason code (0 when the entry has none). */
function crlEntries(der: Uint8Array): Map<string, number> {
  const crl = pkijs.CertificateRevocationList.fromBER(Uint8Array.from(der));
  const entries = new Map<string, number>();
  for (const entry of crl.revokedCertificates ?? []) {
    const serial = Buffer.from(entry.userCertificate.valueBlock.valueHexView).toString('hex').replace(/^(00)+(?=.)/, '');
    const reason = entry.crlEntryExtensions?.extensions.find((e) => e.extnID === '2.5.29.21');
    entries.set(serial, reason ? (reason.parsedValue as { valueBlock: { valueDec: number } }).valueBlock.valueDec : 0);
  }
  return entries;
}

function crlNumber(der: Uint8Array): number {
  const crl = pkijs.CertificateRevocationList.fromBER(Uint8Array.from(der));
  const extension = crl.crlExtensions!.extensions.find((e) => e.extnID === '2.5.29.20')!;
  return (extension.parsedValue as { valueBlock: { valueDec: number } }).valueBlock.valueDec;
}

describe('activation', () => {
  it('a certificate issued with require_activation is on hold until activated', async () => {
    const { certificate } = await admin.issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'Held', requireActivation: true, projectId: 'prj_a' });
    const id = certificate!.certificateId;
    expect(certificate!.status).toBe('PENDING');

    const signing = await failure(service.signData({ certificateId: id, data: new Uint8Array([1, 2, 3]) }));
    expect(signing.code).toBe(Code.FailedPrecondition);
    expect(signing.rawMessage).toMatch(/PENDING/);

    const held = await admin.checkStatus({ certificateId: id });
    expect(held.status).toBe('REVOKED');
    expect(held.revocationReason).toBe(6);
    expect(readOcspResponse(held.ocspResponse)).toMatchObject({ responseStatus: 0, certStatus: 'revoked', revocationReason: 6 });
    expect(crlEntries((await admin.getCrl({})).crl).get(certificate!.serialNumber)).toBe(6);

    const { certificate: active } = await admin.activateCertificate({ certificateId: id });
    expect(active!.status).toBe('ACTIVE');
    const good = await admin.checkStatus({ serialNumber: certificate!.serialNumber.toUpperCase() });
    expect(good.status).toBe('GOOD');
    expect(good.certificateId).toBe(id);
    expect(readOcspResponse(good.ocspResponse)).toMatchObject({ responseStatus: 0, certStatus: 'good', certificates: 2 });
    expect(crlEntries((await admin.getCrl({})).crl).has(certificate!.serialNumber)).toBe(false);
    expect((await service.signData({ certificateId: id, data: new Uint8Array([1, 2, 3]) })).signature.length).toBeGreaterThan(60);

    const again = await failure(admin.activateCertificate({ certificateId: id }));
    expect(again.code).toBe(Code.FailedPrecondition);
    expect(again.rawMessage).toMatch(/is ACTIVE; only PENDING/);
  });

  it('a pending client certificate acts for its project only once activated', async () => {
    const issued = await admin.issueCertificate({ profile: 'MESH_CLIENT', commonName: 'Pending client', projectId: 'prj_a', requireActivation: true });
    const info = parseCertificate(issued.certificate!.certificatePem);
    const resolve = () =>
      createIdentityResolver(mesh.db).resolve({ certificate: { spkiSha256: info.spkiSha256Hex, sanUris: [], subject: info.subject.text, serialNumber: info.serialNumberHex } });
    expect((await resolve())?.projectId).toBeUndefined();
    await admin.activateCertificate({ certificateId: issued.certificate!.certificateId });
    expect((await resolve())?.projectId).toBe('prj_a');
  });
});

describe('revocation', () => {
  it('refuses reasons outside RFC 5280, and the temporary ones', async () => {
    const { certificate } = await admin.issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'Reasons' });
    for (const reason of [7, 6, 8, 11, -1, 100]) {
      const err = await failure(admin.revokeCertificate({ certificateId: certificate!.certificateId, reason }));
      expect(err.code, `reason ${reason}`).toBe(Code.InvalidArgument);
    }
    expect((await admin.getCertificate({ certificateId: certificate!.certificateId })).certificate!.status).toBe('ACTIVE');
  });

  it('takes effect at once for CheckStatus, the OCSP responder, the CRL and SignData; twice is failed_precondition', async () => {
    const { certificate } = await admin.issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'Compromised', projectId: 'prj_a' });
    const id = certificate!.certificateId;
    const before = crlNumber((await admin.getCrl({ profile: 'C2PA_SIGNING' })).crl);
    // Signed with before: the record SignData keeps must not outlive the revocation.
    expect((await service.signData({ certificateId: id, data: new Uint8Array([1]) })).signature.length).toBeGreaterThan(0);

    const { certificate: revoked } = await admin.revokeCertificate({ certificateId: id, reason: 1 });
    expect(revoked!.status).toBe('REVOKED');
    expect(revoked!.revocationReason).toBe(1);
    expect(Date.parse(revoked!.revokedAt)).toBeLessThanOrEqual(Date.now());

    const status = await admin.checkStatus({ certificateId: id });
    expect(status).toMatchObject({ status: 'REVOKED', revocationReason: 1, revokedAt: revoked!.revokedAt, serialNumber: certificate!.serialNumber });
    expect(readOcspResponse(status.ocspResponse)).toMatchObject({ certStatus: 'revoked', revocationReason: 1 });
    // The status alone, for callers that do not staple it: same answer, nothing signed.
    const statusOnly = await admin.checkStatus({ certificateId: id, omitOcspResponse: true });
    expect(statusOnly).toMatchObject({ status: 'REVOKED', revocationReason: 1, revokedAt: revoked!.revokedAt, certificateId: id });
    expect(statusOnly.ocspResponse).toHaveLength(0);

    const crl = await admin.getCrl({});
    expect(crlEntries(crl.crl).get(certificate!.serialNumber)).toBe(1);
    expect(crlNumber(crl.crl)).toBeGreaterThan(before);

    const signing = await failure(service.signData({ certificateId: id, data: new Uint8Array([1]) }));
    expect(signing.code).toBe(Code.FailedPrecondition);
    expect(signing.rawMessage).toMatch(/REVOKED/);

    const twice = await failure(admin.revokeCertificate({ certificateId: id, reason: 4 }));
    expect(twice.code).toBe(Code.FailedPrecondition);
    expect((await admin.getCertificate({ certificateId: id })).certificate!.revocationReason).toBe(1);
  });

  it('revokes a client certificate for mesh authentication and lists it on the mesh CA\'s CRL', async () => {
    const issued = await admin.issueCertificate({ profile: 'MESH_CLIENT', commonName: 'Leaver', projectId: 'prj_a' });
    const info = parseCertificate(issued.certificate!.certificatePem);
    const resolve = () =>
      createIdentityResolver(mesh.db).resolve({ certificate: { spkiSha256: info.spkiSha256Hex, sanUris: [], subject: info.subject.text, serialNumber: info.serialNumberHex } });
    expect((await resolve())?.projectId).toBe('prj_a');
    await admin.revokeCertificate({ certificateId: issued.certificate!.certificateId, reason: 3 });
    await expect(resolve()).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(crlEntries((await admin.getCrl({ profile: 'MESH_CLIENT' })).crl).get(info.serialNumberHex)).toBe(3);
    // The mesh CA answers OCSP for its own certificates.
    const status = await admin.checkStatus({ certificateId: issued.certificate!.certificateId });
    expect(readOcspResponse(status.ocspResponse)).toMatchObject({ certStatus: 'revoked', revocationReason: 3, certificates: 1 });
  });

  it('refuses to revoke the mesh\'s own CA, OCSP, TSA and identity certificates', async () => {
    for (const entity of [mesh.pki.c2paIntermediate, mesh.pki.ocspResponder, mesh.pki.timeStampAuthority, mesh.pki.meshCa, mesh.pki.admin, mesh.pki.services.signing]) {
      const err = await failure(admin.revokeCertificate({ certificateId: entity.certificateId, reason: 1 }));
      expect(err.code).toBe(Code.FailedPrecondition);
    }
  });
});

describe('tenant isolation and input rules', () => {
  it('another project\'s certificate is not found, for every operation', async () => {
    const a = createClient(CertificateAuthorityService, mesh.transport(projectIdentity('prj_a')));
    const b = createClient(CertificateAuthorityService, mesh.transport(projectIdentity('prj_b')));
    const { certificate } = await a.issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'Project A signer', requireActivation: true });
    const id = certificate!.certificateId;
    for (const call of [
      () => b.getCertificate({ certificateId: id }),
      () => b.activateCertificate({ certificateId: id }),
      () => b.revokeCertificate({ certificateId: id, reason: 1 }),
      () => b.checkStatus({ certificateId: id }),
      () => b.getCertificateChain({ certificateId: id }),
    ]) {
      expect((await failure(call())).code).toBe(Code.NotFound);
    }
    // Mesh-wide certificates are not a project's to manage either.
    expect((await failure(b.revokeCertificate({ certificateId: mesh.pki.defaultSignerId, reason: 1 }))).code).toBe(Code.NotFound);
    // Status by serial is public (as OCSP is), the other project's certificate id is not.
    const bySerial = await b.checkStatus({ serialNumber: certificate!.serialNumber });
    expect(bySerial.status).toBe('REVOKED');
    expect(bySerial.certificateId).toBe('');
    // Its owner manages it.
    expect((await a.activateCertificate({ certificateId: id })).certificate!.status).toBe('ACTIVE');
    expect((await a.revokeCertificate({ certificateId: id, reason: 5 })).certificate!.status).toBe('REVOKED');
  });

  it('unknown ids are not_found; bad serials, encodings and profiles are invalid_argument', async () => {
    for (const call of [
      () => admin.activateCertificate({ certificateId: 'crt_missing' }),
      () => admin.revokeCertificate({ certificateId: 'crt_missing', reason: 0 }),
      () => admin.checkStatus({ certificateId: 'crt_missing' }),
      () => service.signData({ certificateId: 'crt_missing', data: new Uint8Array([1]) }),
    ]) {
      expect((await failure(call())).code).toBe(Code.NotFound);
    }
    const unknown = await admin.checkStatus({ serialNumber: '0x01:02:03' });
    expect(unknown).toMatchObject({ status: 'UNKNOWN', serialNumber: '010203', certificateId: '' });
    for (const call of [
      () => admin.checkStatus({}),
      () => admin.checkStatus({ serialNumber: 'xyz' }),
      () => admin.revokeCertificate({ certificateId: '', reason: 1 }),
      () => admin.getCrl({ profile: 'ROOT_CA' }),
      () => service.signData({ certificateId: mesh.pki.defaultSignerId, data: new Uint8Array([1]), encoding: 'base64' }),
      () => admin.timestamp({ timestampQuery: new Uint8Array([1, 2, 3]) }),
      () => admin.timestamp({ timestampQuery: new Uint8Array() }),
    ]) {
      expect((await failure(call())).code).toBe(Code.InvalidArgument);
    }
  });

  it('SignData is for mesh services only, even for the admin', async () => {
    const err = await failure(admin.signData({ certificateId: mesh.pki.defaultSignerId, data: new Uint8Array([1]) }));
    expect(err.code).toBe(Code.PermissionDenied);
  });
});
