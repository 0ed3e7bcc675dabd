import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { CertificateAuthorityService, RegistryService, VerificationService } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, failure, generatorManifest, issueProjectSigner, projectKey, readMedia, registryClient, signingClient } from './test-support/signing-test-kit.js';

/**
 * Another tenant's project, asset, API key or signer is `not_found` on every service, and the
 * answer reads exactly as the one for an id that does not exist: a project's key cannot tell the
 * two apart. Each case is asked twice through the whole mesh (real interceptors, in-process
 * transport) as a key of project A: once naming project B's object, once naming a missing one.
 */

let mesh: TestMesh;
let projectA: string;
let projectB: string;
let signerB: string;
let assetB: string;
let keyB: string;
let labelB: string;
const MISSING = { project: 'prj_00000000000000000000000000', signer: 'crt_00000000000000000000000000', asset: 'ast_00000000000000000000000000', key: 'key_00000000000000000000000000' };
const jpeg = readMedia('no_manifest.jpg');
const manifest = generatorManifest('tenant answers');

beforeAll(async () => {
  mesh = await createTestMesh();
  [projectA, projectB] = await Promise.all([createProject(mesh, 'Tenant A'), createProject(mesh, 'Tenant B')]);
  signerB = (await issueProjectSigner(mesh, projectB, 'Tenant B Signer')).certificateId;
  const signedB = await signingClient(mesh, projectKey(projectB)).sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest, signerId: signerB });
  assetB = signedB.assetId;
  labelB = signedB.activeManifestLabel;
  keyB = (await registryClient(mesh).createApiKey({ projectId: projectB, name: 'b', scopes: ['sign'] })).keyId;
});
afterAll(async () => {
  await mesh?.close();
});

const asA = () => projectKey(projectA, { scopes: ['sign', 'verify', 'registry.read', 'registry.write', 'ca.issue', 'ca.revoke'] });
const signing = () => signingClient(mesh, asA());
const ca = () => createClient(CertificateAuthorityService, mesh.transport(asA()));
const registry = () => createClient(RegistryService, mesh.transport(asA()));
/** API keys are managed with `admin`; a project's key may hold it for its own project only. */
const keyAdminOfA = () => createClient(RegistryService, mesh.transport(projectKey(projectA, { scopes: ['admin'] })));
const verification = () => createClient(VerificationService, mesh.transport(asA()));

/** The call fails `not_found` for B's id, and says the same as for a missing id (ids aside). */
async function answersAsMissing(call: (id: string) => Promise<unknown>, foreignId: string, missingId: string): Promise<ConnectError> {
  const foreign = await failure(call(foreignId));
  const missing = await failure(call(missingId));
  expect(foreign.code, foreign.rawMessage).toBe(Code.NotFound);
  expect(missing.code, missing.rawMessage).toBe(Code.NotFound);
  expect(foreign.rawMessage.replaceAll(foreignId, '<id>')).toBe(missing.rawMessage.replaceAll(missingId, '<id>'));
  expect(foreign.rawMessage).not.toMatch(/another|belongs|other project|permission/i);
  return foreign;
}

describe("another project's objects answer not_found, as missing ones do", () => {
  it('signing: a project_id or a signer_id of another project', async () => {
    const project = await answersAsMissing((id) => signing().sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest, projectId: id }), projectB, MISSING.project);
    expect(project.rawMessage).toBe(`no project ${projectB}`);
    await answersAsMissing((id) => signing().signHash({ contentHash: `sha256:${'cd'.repeat(32)}`, headline: 'x', projectId: id }), projectB, MISSING.project);
    await answersAsMissing((id) => signing().listSigners({ projectId: id }), projectB, MISSING.project);

    const signer = await answersAsMissing((id) => signing().sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest, signerId: id }), signerB, MISSING.signer);
    expect(signer.rawMessage).toBe(`no signer ${signerB}; ListSigners shows the signers you may use`);
    await answersAsMissing((id) => signing().signHash({ contentHash: `sha256:${'cd'.repeat(32)}`, headline: 'x', signerId: id }), signerB, MISSING.signer);
  });

  it('certificate authority: another project, or its certificate', async () => {
    await answersAsMissing((id) => ca().getCertificate({ certificateId: id }), signerB, MISSING.signer);
    await answersAsMissing((id) => ca().checkStatus({ certificateId: id, omitOcspResponse: true }), signerB, MISSING.signer);
    await answersAsMissing((id) => ca().revokeCertificate({ certificateId: id, reason: 1 }), signerB, MISSING.signer);
    await answersAsMissing((id) => ca().activateCertificate({ certificateId: id }), signerB, MISSING.signer);
    await answersAsMissing((id) => ca().listCertificates({ projectId: id }), projectB, MISSING.project);
    await answersAsMissing((id) => ca().issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'x', projectId: id, keyAlgorithm: 'ES256' }), projectB, MISSING.project);
  });

  it('registry: another project, its asset, its API key', async () => {
    await answersAsMissing((id) => registry().getProject({ projectId: id }), projectB, MISSING.project);
    await answersAsMissing((id) => registry().listAssets({ projectId: id }), projectB, MISSING.project);
    await answersAsMissing((id) => registry().getAsset({ assetId: id }), assetB, MISSING.asset);
    await answersAsMissing((id) => registry().updateAsset({ assetId: id, title: 'taken' }), assetB, MISSING.asset);
    await answersAsMissing((id) => registry().deleteAsset({ assetId: id }), assetB, MISSING.asset);
    await answersAsMissing((id) => keyAdminOfA().getApiKey({ keyId: id }), keyB, MISSING.key);
    await answersAsMissing((id) => keyAdminOfA().revokeApiKey({ keyId: id }), keyB, MISSING.key);
  });

  it("verification: another project, its manifest store", async () => {
    await answersAsMissing((id) => verification().listVerifications({ projectId: id }), projectB, MISSING.project);
    // The manifest store B's Sign kept in the registry, asked of verification as a label.
    const missingLabel = labelB.replace(/[0-9a-f]/g, '0');
    expect(missingLabel).not.toBe(labelB);
    await answersAsMissing((id) => verification().getManifestStore({ manifestLabel: id }), labelB, missingLabel);
  });

  it("and B's objects are untouched", async () => {
    const admin = registryClient(mesh);
    expect((await admin.getAsset({ assetId: assetB })).asset?.title).not.toBe('taken');
    expect((await admin.getApiKey({ keyId: keyB })).apiKey?.revokedAt ?? '').toBe('');
    const { certificate } = await createClient(CertificateAuthorityService, mesh.transport(projectKey(projectB, { scopes: ['ca.issue'] }))).getCertificate({ certificateId: signerB });
    expect(certificate?.status).toBe('ACTIVE');
  });
});
