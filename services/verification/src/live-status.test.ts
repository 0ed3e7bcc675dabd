import { createHash } from 'node:crypto';
import { createClient } from '@connectrpc/connect';
import { SERVICE_SCOPES } from '@c2pa-mesh/auth';
import { RegistryService, verificationV1 } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerificationTestMesh, type VerificationTestMesh } from './test-support/verification-mesh.js';
import { csrSigner } from './test-support/csr-signer.js';
import { createForeignPki } from './test-support/foreign-pki.js';
import { createdManifest, readMedia } from './test-support/media.js';

const { ValidationState } = verificationV1;

let t: VerificationTestMesh;
beforeAll(async () => {
  t = await createVerificationTestMesh();
});
afterAll(async () => {
  await t?.close();
});

describe('live certificate status', () => {
  it('a certificate revoked after signing shows as revoked, while the signature itself still validates', async () => {
    const { certificate } = await t.ca.issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'Revocation Test Signer', organization: 'Verification Tests', projectId: t.projectId });
    const signed = await t.sign(readMedia('no_manifest.jpg'), 'image/jpeg', { signerId: certificate!.certificateId, title: 'signed before revocation' });
    expect(signed.certificateId).toBe(certificate!.certificateId);

    const before = await t.verification().verify({ asset: signed.signedAsset });
    expect(before.validationState).toBe(ValidationState.TRUSTED);
    expect(before.certificateStatus).toBe('ACTIVE');
    expect(before.signer).toBe('Revocation Test Signer');

    await t.ca.revokeCertificate({ certificateId: certificate!.certificateId, reason: 1 });
    const after = await t.verification().verify({ asset: signed.signedAsset });
    // Live status from the CA: revoked now, with the reason and time.
    expect(after.certificateStatus).toBe('REVOKED');
    expect(after.revocationReason).toBe('keyCompromise');
    expect(after.revokedAt).toMatch(/^\d{4}-\d{2}-\d{2}T.*Z$/);
    expect(Date.parse(after.revokedAt)).toBeGreaterThanOrEqual(Date.parse(before.signedAt) - 1000);
    // The signature carries a time-stamp and an OCSP response from before the revocation: C2PA
    // validation of the asset itself is unchanged.
    expect(after.validationState).toBe(ValidationState.TRUSTED);
    expect(after.errors).toEqual([]);
    expect(after.successes.map((s) => s.code)).toContain('signingCredential.ocsp.notRevoked');

    const byHash = await t.verification().verifyByHash({ contentHash: signed.assetSha256 });
    expect(byHash).toMatchObject({ found: true, assetId: signed.assetId, certificateStatus: 'REVOKED', certificateId: certificate!.certificateId, signer: 'Revocation Test Signer' });
  });

  it('a foreign certificate carrying the serial number of one of ours does not borrow its status', async () => {
    const signed = await t.sign(readMedia('sample1.png'), 'image/png');
    const { certificate } = await t.ca.getCertificate({ certificateId: signed.certificateId });
    const impostor = await createForeignPki('Impostor', { signerSerialHex: certificate!.serialNumber });
    const { signedAsset } = await t.mesh.engine!.sign({ format: 'image/png', asset: readMedia('sample1.png'), manifestDefinition: createdManifest('impostor'), signer: impostor.claimSigner });
    const res = await t.verification().verify({ asset: signedAsset });
    expect(JSON.parse(res.manifestStoreJson).manifests[res.activeManifestLabel].signature_info.cert_serial_number).toBe(BigInt(`0x${certificate!.serialNumber}`).toString());
    expect(res.validationState).toBe(ValidationState.VALID);
    expect(res.certificateStatus).toBe('NOT_ISSUED_BY_US');
    expect(res.signer).toBe('Impostor Signer');
    // The genuine certificate is still ACTIVE for its own signatures.
    expect((await t.verification().verify({ asset: signed.signedAsset })).certificateStatus).toBe('ACTIVE');

    // Nor when the registry holds the impostor's asset under the genuine certificate: the
    // certificate recorded with an asset only counts if it is the one in the signature.
    const signingService = createClient(RegistryService, t.mesh.transport({ kind: 'SERVICE', id: 'spiffe://c2pa-mesh/service/signing', serviceName: 'signing', scopes: new Set(SERVICE_SCOPES.signing) }));
    const assetSha256 = `sha256:${createHash('sha256').update(signedAsset).digest('hex')}`;
    await signingService.registerAsset({ projectId: t.projectId, kind: 'ASSET', assetSha256, format: 'image/png', sizeBytes: BigInt(signedAsset.length), signerId: signed.certificateId, certificateId: signed.certificateId, signedAt: new Date().toISOString() });
    const registeredImpostor = await t.verification().verify({ asset: signedAsset });
    expect(registeredImpostor.registered).toBe(true);
    expect(registeredImpostor.certificateStatus).toBe('NOT_ISSUED_BY_US');
  });

  it('a certificate issued but not yet released (PENDING) reads UNKNOWN, then ACTIVE once activated', async () => {
    const partner = await csrSigner(t.ca, { commonName: 'Pending Partner Signer', projectId: t.projectId, requireActivation: true });
    expect(partner.status).toBe('PENDING');
    const { signedAsset } = await t.mesh.engine!.sign({ format: 'image/jpeg', asset: readMedia('no_manifest.jpg'), manifestDefinition: createdManifest('pending'), signer: partner.claimSigner });
    const pending = await t.verification().verify({ asset: signedAsset });
    expect(pending.validationState).toBe(ValidationState.TRUSTED);
    expect(pending.certificateStatus).toBe('UNKNOWN');
    expect(pending.revocationReason).toBe('');
    await t.ca.activateCertificate({ certificateId: partner.certificateId });
    expect((await t.verification().verify({ asset: signedAsset })).certificateStatus).toBe('ACTIVE');
  });
});
