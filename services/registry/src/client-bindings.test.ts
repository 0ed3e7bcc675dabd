import 'reflect-metadata';
import { createHash, X509Certificate } from 'node:crypto';
import { Code } from '@connectrpc/connect';
import { createIdentityResolver, type PeerCertificate } from '@c2pa-mesh/auth';
import { generateKeyPair } from '@c2pa-mesh/key-custody';
import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { issueCertificate } from '@c2pa-mesh/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRegistry, failure, registryWithKey, type RegistryClient } from './test-support/registry-test-kit.js';

/** What the TLS listener reads from a verified client certificate. */
function peerOf(pem: string): PeerCertificate {
  const cert = new X509Certificate(pem);
  return {
    spkiSha256: createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('hex'),
    sanUris: (cert.subjectAltName ?? '').split(/,\s*/).filter((s) => s.startsWith('URI:')).map((s) => s.slice(4)),
    subject: cert.subject,
    serialNumber: cert.serialNumber.toLowerCase(),
  };
}

describe(`client-certificate bindings and identities on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let mesh: TestMesh;
  let admin: RegistryClient;
  let projectId: string;
  let clientPem: string;

  beforeAll(async () => {
    mesh = await createTestMesh();
    admin = adminRegistry(mesh);
    ({ projectId } = await admin.createProject({ name: 'Partner' }));
    const key = await generateKeyPair('ES256');
    clientPem = (
      await issueCertificate({
        profile: 'MESH_CLIENT',
        subject: { commonName: 'newsroom cms' },
        subjectPublicKeySpki: key.signer.publicKeySpki,
        issuer: { certificateDer: mesh.pki.meshCa.der, signer: mesh.pki.meshCa.signer },
        validityDays: 30,
        san: { uri: ['spiffe://example.org/newsroom'] },
      })
    ).pem;
  });
  afterAll(async () => {
    await mesh?.close();
  });

  it('binds a certificate by its PEM (stored as the key fingerprint) and gives it the project and scopes', async () => {
    const resolver = createIdentityResolver(mesh.db);
    const peer = peerOf(clientPem);
    const unbound = await resolver.resolve({ certificate: peer });
    expect(unbound?.kind).toBe('CLIENT_CERTIFICATE');
    expect(unbound?.projectId).toBeUndefined();
    expect(unbound?.scopes.size).toBe(0);

    const { binding } = await admin.createClientBinding({ projectId, name: 'Newsroom CMS', scopes: ['sign', 'registry.read'], certificateMatch: { case: 'certificatePem', value: clientPem } });
    expect(binding).toMatchObject({ projectId, spkiSha256: peer.spkiSha256, sanUri: '', scopes: ['sign', 'registry.read'] });
    const bound = await resolver.resolve({ certificate: peer });
    expect(bound).toMatchObject({ kind: 'CLIENT_CERTIFICATE', projectId, limits: { maxAssetBytes: 100 * 1024 * 1024 } });
    expect([...bound!.scopes].sort()).toEqual(['registry.read', 'sign']);

    expect((await admin.listClientBindings({ projectId })).bindings.map((b) => b.bindingId)).toEqual([binding!.bindingId]);
    await admin.deleteClientBinding({ bindingId: binding!.bindingId });
    expect((await resolver.resolve({ certificate: peer }))?.scopes.size).toBe(0);
    expect((await failure(admin.deleteClientBinding({ bindingId: binding!.bindingId }))).code).toBe(Code.NotFound);
  });

  it('binds by URI SAN and by fingerprint', async () => {
    const resolver = createIdentityResolver(mesh.db);
    const peer = peerOf(clientPem);
    const bySan = await admin.createClientBinding({ projectId, scopes: ['verify'], certificateMatch: { case: 'sanUri', value: 'spiffe://example.org/newsroom' } });
    const identity = await resolver.resolve({ certificate: peer });
    expect(identity).toMatchObject({ id: 'spiffe://example.org/newsroom', projectId });
    expect([...identity!.scopes]).toEqual(['verify']);
    await admin.deleteClientBinding({ bindingId: bySan.binding!.bindingId });

    const byKey = await admin.createClientBinding({ projectId, scopes: ['registry.read'], certificateMatch: { case: 'spkiSha256', value: peer.spkiSha256.toUpperCase() } });
    expect(byKey.binding?.spkiSha256).toBe(peer.spkiSha256);
    expect([...(await resolver.resolve({ certificate: peer }))!.scopes]).toEqual(['registry.read']);
  });

  it('refuses bindings that could never match or would shadow the mesh identities', async () => {
    const foreign = (
      await issueCertificate({
        profile: 'MESH_CLIENT',
        subject: { commonName: 'self-made' },
        subjectPublicKeySpki: (await generateKeyPair('ES256')).signer.publicKeySpki,
        issuer: { certificateDer: mesh.pki.c2paRoot.der, signer: mesh.pki.c2paRoot.signer },
        validityDays: 30,
      })
    ).pem;
    const bad = [
      { case: 'certificatePem' as const, value: foreign },
      { case: 'certificatePem' as const, value: 'not a certificate' },
      { case: 'spkiSha256' as const, value: 'abc' },
      { case: 'sanUri' as const, value: 'spiffe://c2pa-mesh/admin' },
      { case: 'sanUri' as const, value: 'no scheme' },
    ];
    for (const certificateMatch of bad) {
      expect((await failure(admin.createClientBinding({ projectId, scopes: ['sign'], certificateMatch }))).code).toBe(Code.InvalidArgument);
    }
    expect((await failure(admin.createClientBinding({ projectId, scopes: ['sign'] }))).code).toBe(Code.InvalidArgument);
    expect((await failure(admin.createClientBinding({ projectId, scopes: ['mesh.internal'], certificateMatch: { case: 'sanUri', value: 'spiffe://x/y' } }))).code).toBe(Code.InvalidArgument);
  });

  it("exposes an API key's limits through its identity, for the services that take assets", async () => {
    const created = await admin.createApiKey({ projectId, name: 'uploads', scopes: ['sign'], maxAssetBytes: 5_000_000n, requestsPerMinute: 7 });
    const identity = await createIdentityResolver(mesh.db).resolve({ bearerToken: created.key });
    expect(identity).toMatchObject({ kind: 'API_KEY', id: created.keyId, projectId, limits: { maxAssetBytes: 5_000_000, requestsPerMinute: 7 } });
    // A key never holds the mesh-internal scope, whatever the stored row says.
    await mesh.db.updateTable('api_keys').set({ scopes: JSON.stringify(['sign', 'mesh.internal']) }).where('id', '=', created.keyId).execute();
    expect([...(await createIdentityResolver(mesh.db).resolve({ bearerToken: created.key }))!.scopes]).toEqual(['sign']);
    expect((await failure(registryWithKey(mesh, created.key).registerAsset({}))).code).toBe(Code.PermissionDenied);
  });

  it('manages projects: unique names, updates, default signers', async () => {
    expect((await failure(admin.createProject({ name: 'partner' }))).code).toBe(Code.AlreadyExists);
    expect((await failure(admin.createProject({ name: ' ' }))).code).toBe(Code.InvalidArgument);
    const { project } = await admin.updateProject({ projectId, description: 'A partner newsroom' });
    expect(project).toMatchObject({ name: 'Partner', description: 'A partner newsroom', defaultSignerId: '' });
    const { projectId: other } = await admin.createProject({ name: 'Other' });
    expect((await failure(admin.updateProject({ projectId: other, name: 'PARTNER' }))).code).toBe(Code.AlreadyExists);
    expect((await admin.updateProject({ projectId: other, name: 'Other Two' })).project?.name).toBe('Other Two');
    expect((await failure(admin.updateProject({ projectId, defaultSignerId: 'crt_nope' }))).code).toBe(Code.NotFound);
    const signer = mesh.pki.defaultSignerId;
    expect((await admin.updateProject({ projectId, defaultSignerId: signer })).project?.defaultSignerId).toBe(signer);
    expect((await admin.updateProject({ projectId, defaultSignerId: '' })).project?.defaultSignerId).toBe('');
    const names = (await admin.listProjects({ pageSize: 1 })).projects.map((p) => p.name);
    expect(names).toEqual(['Partner']);
    expect((await failure(admin.getProject({ projectId: 'prj_nope' }))).code).toBe(Code.NotFound);
    expect((await failure(admin.getProject({}))).code).toBe(Code.InvalidArgument);
  });
});
