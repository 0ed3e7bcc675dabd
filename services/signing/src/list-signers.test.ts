import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { SigningService } from '@c2pa-mesh/proto';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('SigningService.ListSigners', () => {
  let mesh: TestMesh;
  beforeAll(async () => {
    mesh = await createTestMesh();
  });
  afterAll(async () => {
    await mesh?.close();
  });

  it('lists the default signer with its chain, leaf first then the intermediate', async () => {
    const client = createClient(SigningService, mesh.transport(ADMIN_IDENTITY));
    const { signers } = await client.listSigners({});
    expect(signers).toHaveLength(1);
    const [signer] = signers;
    expect(signer.isDefault).toBe(true);
    expect(signer.algorithm).toBe('es256');
    expect(signer.status).toBe('ACTIVE');
    const pems = signer.certificateChainPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    expect(pems).toHaveLength(2);
    const [leaf, intermediate] = pems.map((pem) => new X509Certificate(pem));
    expect(leaf.checkIssued(intermediate)).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(intermediate.ca).toBe(true);
    expect(intermediate.subject).toBe(new X509Certificate(mesh.pki.c2paIntermediate.pem).subject);
  });

  it('refuses a caller without identity and one without the sign scope', async () => {
    const anonymous = createClient(SigningService, mesh.transport());
    await expect(anonymous.listSigners({})).rejects.toMatchObject({ code: Code.Unauthenticated });
    const verifier = createClient(SigningService, mesh.transport({ kind: 'API_KEY', id: 'key_test', projectId: 'prj_x', scopes: new Set(['verify']) }));
    const err = await verifier.listSigners({}).catch((e) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.PermissionDenied);
    expect((err as ConnectError).rawMessage).toMatch(/sign/);
  });
});
