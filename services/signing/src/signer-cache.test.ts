import type { MeshClients } from '@c2pa-mesh/clients';
import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOcspStapler } from './ca-credentials.js';
import { createSignerDirectory } from './signer-directory.js';
import { caClient, createProject, failure, generatorManifest, issueProjectSigner, projectKey, readMedia, signingClient } from './test-support/signing-test-kit.js';

/**
 * Signing credentials are resolved once per signer while the CA in this process hears every
 * status change, and a revocation it hears takes effect at the very next call.
 */

let mesh: TestMesh;
let projectId: string;

beforeAll(async () => {
  mesh = await createTestMesh();
  projectId = await createProject(mesh, 'Credential cache');
});
afterAll(async () => {
  await mesh?.close();
});

/** The signing service's clients, counting the CA calls a signer's resolution makes. */
function countingClients(clients: MeshClients) {
  const counts = { getCertificate: 0, checkStatus: 0 };
  const counted: MeshClients = {
    get signing() {
      return clients.signing;
    },
    get verification() {
      return clients.verification;
    },
    get registry() {
      return clients.registry;
    },
    get transparencyLog() {
      return clients.transparencyLog;
    },
    get certificateAuthority() {
      const ca = clients.certificateAuthority;
      return {
        ...ca,
        getCertificate: (...args: Parameters<typeof ca.getCertificate>) => {
          counts.getCertificate++;
          return ca.getCertificate(...args);
        },
        checkStatus: (...args: Parameters<typeof ca.checkStatus>) => {
          counts.checkStatus++;
          return ca.checkStatus(...args);
        },
      };
    },
  };
  return { counted, counts };
}

describe('signing credentials, resolved once per signer', () => {
  it('the CA of this process hears status changes', () => {
    expect(mesh.certificateStatus?.heard()).toBe(true);
  });

  it('reads the certificate and its staple once, and again only after a status change', async () => {
    const signer = await issueProjectSigner(mesh, projectId, 'Cached Signer');
    const other = await issueProjectSigner(mesh, projectId, 'Other Signer');
    const { counted, counts } = countingClients(mesh.clientsFor('signing'));
    const directory = createSignerDirectory(counted, undefined, { status: mesh.certificateStatus });
    const staples = createOcspStapler(counted, { status: mesh.certificateStatus });
    const choice = { signerId: signer.certificateId, project: { projectId, defaultSignerId: '' } };
    const first = await directory.resolve(choice);
    await staples.stapleFor(first);
    const second = await directory.resolve(choice);
    await staples.stapleFor(second);
    expect(counts).toEqual({ getCertificate: 1, checkStatus: 1 });
    // The same decoded chain, not a copy per call.
    expect(second.chainDer).toBe(first.chainDer);
    expect(first.chainDer[0].length).toBeGreaterThan(0);

    // Tenant and status checks still run on every call, against the kept record.
    await expect(directory.resolve({ signerId: signer.certificateId, project: { projectId: 'prj_someone_else', defaultSignerId: '' } })).rejects.toMatchObject({ code: 'not_found' });

    // Revoking another certificate is a status change: everything is read again once.
    await caClient(mesh).revokeCertificate({ certificateId: other.certificateId, reason: 1 });
    await staples.stapleFor(await directory.resolve(choice));
    expect(counts).toEqual({ getCertificate: 2, checkStatus: 2 });

    // Revoking this signer: the next resolution refuses it.
    await caClient(mesh).revokeCertificate({ certificateId: signer.certificateId, reason: 1 });
    await expect(directory.resolve(choice)).rejects.toMatchObject({ code: 'failed_precondition', details: { signerId: signer.certificateId, status: 'REVOKED' } });
  });

  it('a Sign right after a revocation is refused, though the signer signed a moment before', async () => {
    const signer = await issueProjectSigner(mesh, projectId, 'Revoked Between Calls');
    const client = signingClient(mesh, projectKey(projectId));
    const request = { asset: readMedia('no_manifest.jpg'), format: 'image/jpeg', manifestJson: generatorManifest('cache'), signerId: signer.certificateId };
    await client.sign(request);
    await client.sign(request);
    await caClient(mesh).revokeCertificate({ certificateId: signer.certificateId, reason: 1 });
    const error = await failure(client.sign(request));
    expect(error.rawMessage).toMatch(new RegExp(`^signer ${signer.certificateId} was revoked at \\S+ and can no longer sign`));
  });
});
