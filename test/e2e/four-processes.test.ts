import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Code, ConnectError } from '@connectrpc/connect';
import { createEngine, type C2paEngine } from '@c2pa-mesh/engine';
import { CertificateAuthorityService, Health, OnboardingService, RegistryService, SigningService, VerificationService, verificationV1 } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../support/cleanup.js';
import { startFourProcessMesh, type FourProcessMesh } from '../support/four-processes.js';
import { meshClient, type ClientCredentials } from '../support/mesh-clients.js';
import { FIXTURES } from '../support/start-mesh.js';

const { ValidationState } = verificationV1;
const TRAINED = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
const manifest = (title: string) =>
  JSON.stringify({ title, assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED }] } }] });
const media = (file: string) => new Uint8Array(readFileSync(path.join(FIXTURES, file)));
const LTV = ['timeStamp.validated', 'timeStamp.trusted', 'signingCredential.ocsp.notRevoked'];

describe('the mesh as four processes talking mTLS to each other', () => {
  let mesh: FourProcessMesh;
  let engine: C2paEngine;
  let admin: ClientCredentials;
  beforeAll(async () => {
    engine = createEngine({ threads: 1 });
    mesh = await startFourProcessMesh();
    const { files } = mesh.processes.registry;
    admin = { caPath: files.meshCa, certPath: files.adminCert, keyPath: files.adminKey };
  });
  afterAll(() => cleanUp({ mesh: () => mesh?.stop(), engine: () => engine?.close() }));

  it('each process serves only its own service; only the CA process runs the relying-party listener', async () => {
    const { registry, 'certificate-authority': ca, signing } = mesh.processes;
    expect(registry.readyLine).toContain('services=registry');
    expect(ca.pkiUrl).toBeDefined();
    expect(registry.pkiUrl).toBeUndefined();
    const health = meshClient(Health, signing.url, admin);
    expect((await health.check({ service: 'c2pamesh.signing.v1.SigningService' })).status).toBe(1);
    const wrong = await health.check({ service: 'c2pamesh.registry.v1.RegistryService' }).catch((e) => ConnectError.from(e));
    expect((wrong as ConnectError).code).toBe(Code.NotFound);
  });

  it('the signing process reaches the CA process over mTLS with its own service identity', async () => {
    const { 'certificate-authority': ca, signing } = mesh.processes;
    const { signers } = await meshClient(SigningService, signing.url, admin).listSigners({});
    expect(signers).toHaveLength(1);
    expect(signers[0].isDefault).toBe(true);
    const direct = await meshClient(CertificateAuthorityService, ca.url, admin).listCertificates({ profile: 'C2PA_SIGNING' });
    expect(direct.certificates.map((c) => c.certificateId)).toContain(signers[0].id);
    // The CA process audited ListCertificates calls whose caller was the signing service's
    // client certificate (a SERVICE identity established by mTLS, not by construction).
    const { openDatabase } = await import('@c2pa-mesh/storage');
    const db = await openDatabase({ databaseUrl: mesh.databaseUrl, poolSize: 1 });
    try {
      const events = await db
        .selectFrom('audit_events')
        .select(['identity', 'identity_kind', 'service', 'code'])
        .where('operation', '=', 'ListCertificates')
        .where('identity', '=', 'spiffe://c2pa-mesh/service/signing')
        .execute();
      expect(events.length).toBeGreaterThan(0);
      expect(events[0]).toMatchObject({ identity_kind: 'SERVICE', service: 'c2pamesh.certificateauthority.v1.CertificateAuthorityService', code: 'ok' });
    } finally {
      await db.destroy();
    }
  });

  it('signs a FLAC with the CA process signing, time-stamping and stapling, the registry process recording it', async () => {
    const { registry, signing } = mesh.processes;
    const { projectId } = await meshClient(RegistryService, registry.url, admin).createProject({ name: 'four processes: signing' });
    const response = await meshClient(SigningService, signing.url, admin, 'grpc').sign({
      asset: media('sample1.flac'),
      format: 'audio/flac',
      manifestJson: manifest('four processes'),
      projectId,
    });
    const report = await engine.read({ format: 'audio/flac', asset: response.signedAsset, trustAnchorsPem: readFileSync(signing.files.c2paRoot, 'utf8') });
    expect(report?.validationState).toBe('Trusted');
    expect(report?.errors).toEqual([]);
    expect(report?.successes.map((s) => s.code)).toEqual(expect.arrayContaining(LTV));
    const { asset } = await meshClient(RegistryService, registry.url, admin).getAsset({ assetId: response.assetId });
    expect(asset).toMatchObject({ projectId, assetSha256: response.assetSha256, requestId: response.requestId });
  });

  it('verifies TRUSTED with registry and live status from the other processes, and records the verification there', async () => {
    const { registry, signing, verification: verifier } = mesh.processes;
    const { projectId } = await meshClient(RegistryService, registry.url, admin).createProject({ name: 'four processes: verification' });
    const signed = await meshClient(SigningService, signing.url, admin, 'grpc').sign({
      asset: media('no_manifest.jpg'),
      format: 'image/jpeg',
      manifestJson: manifest('four processes'),
      projectId,
    });
    const verification = meshClient(VerificationService, verifier.url, admin, 'grpc');
    const res = await verification.verify({ asset: signed.signedAsset });
    expect(res).toMatchObject({ validationState: ValidationState.TRUSTED, registered: true, assetId: signed.assetId, certificateStatus: 'ACTIVE' });
    const byHash = await verification.verifyByHash({ contentHash: signed.assetSha256 });
    expect(byHash).toMatchObject({ found: true, certificateStatus: 'ACTIVE' });
    const history = await verification.listVerifications({ assetSha256: signed.assetSha256 });
    expect(history.verifications.map((v) => v.source)).toEqual(['HASH', 'BYTES']);
  });

  it('approving an application in the registry process has the CA process issue its PENDING certificate, as the registry service', async () => {
    const { registry, 'certificate-authority': ca } = mesh.processes;
    const onboarding = meshClient(OnboardingService, registry.url, admin);
    const { applicationId } = await onboarding.submitApplication({ organizationName: 'Four Process Gazette', domain: 'gazette.example', contactEmail: 'desk@gazette.example', contactName: 'Desk' });
    const { application } = await onboarding.reviewApplication({ applicationId, decision: 'APPROVE' });
    const { certificate } = await meshClient(CertificateAuthorityService, ca.url, admin).getCertificate({ certificateId: application!.certificateId });
    expect(certificate).toMatchObject({ status: 'PENDING', projectId: application!.projectId, commonName: 'Four Process Gazette' });
  });
});
