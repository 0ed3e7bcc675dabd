import { Code } from '@connectrpc/connect';
import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRegistry, failure, projectWithKey, registryAs, registryWithKey, type RegistryClient } from './test-support/registry-test-kit.js';
import { serviceIdentity } from './test-support/service-identities.js';

const hash = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

describe(`assets and verification records on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let mesh: TestMesh;
  let admin: RegistryClient;
  let signing: RegistryClient;
  let verification: RegistryClient;
  let projectId: string;
  let client: RegistryClient;
  const ids: string[] = [];

  beforeAll(async () => {
    mesh = await createTestMesh();
    admin = adminRegistry(mesh);
    signing = registryAs(mesh, serviceIdentity('signing'));
    verification = registryAs(mesh, serviceIdentity('verification'));
    const p = await projectWithKey(admin, ['registry.read', 'registry.write']);
    projectId = p.projectId;
    client = registryWithKey(mesh, p.key);
    for (let i = 1; i <= 5; i++) {
      const { asset } = await signing.registerAsset({
        projectId,
        assetSha256: hash(i),
        inputSha256: hash(100 + i),
        format: i % 2 ? 'image/jpeg' : 'video/mp4',
        sizeBytes: BigInt(1000 * i),
        signerId: 'crt_signer',
        certificateId: 'crt_signer',
        manifestLabel: `urn:c2pa:${i}`,
        requestId: `req_sign_${i}`,
        title: `asset ${i}`,
        tags: i <= 2 ? ['news', 'front-page'] : ['news'],
        signedAt: new Date(Date.now() - i * 1000).toISOString(),
      });
      ids.push(asset!.assetId);
      // Distinct creation times, so that the expected order does not hinge on ids.
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
  });
  afterAll(async () => {
    await mesh?.close();
  });

  it('registers what the Signing service signed; only mesh services may', async () => {
    const asset = (await client.getAsset({ assetId: ids[0] })).asset!;
    expect(asset).toMatchObject({ kind: 'ASSET', assetSha256: hash(1), inputSha256: hash(101), format: 'image/jpeg', sizeBytes: 1000n, status: 'ACTIVE', manifestLabel: 'urn:c2pa:1' });
    const record = await signing.registerAsset({
      projectId,
      kind: 'HASH_RECORD',
      assetSha256: hash(42).toUpperCase().replace('SHA256', 'sha256'),
      contentType: 'AI_GENERATED',
      headline: 'A generated picture',
      payloadJson: '{"a":1}',
      signerId: 's',
      certificateId: 'c',
      signedAt: new Date().toISOString(),
    });
    expect(record.asset).toMatchObject({ kind: 'HASH_RECORD', assetSha256: hash(42), inputSha256: hash(42), contentType: 'AI_GENERATED', headline: 'A generated picture' });
    expect((await failure(client.registerAsset({ projectId, assetSha256: hash(7), signerId: 's', certificateId: 'c', signedAt: new Date().toISOString() }))).code).toBe(Code.PermissionDenied);
    const bad = [
      { projectId, assetSha256: 'md5:abc', signerId: 's', certificateId: 'c', signedAt: new Date().toISOString() },
      { projectId, assetSha256: hash(8), signerId: '', certificateId: 'c', signedAt: new Date().toISOString() },
      { projectId, assetSha256: hash(8), signerId: 's', certificateId: 'c', signedAt: 'now' },
      { projectId, assetSha256: hash(8), signerId: 's', certificateId: 'c', signedAt: new Date().toISOString(), kind: 'HASH_RECORD', contentType: 'FAKE' },
    ];
    for (const request of bad) expect((await failure(signing.registerAsset(request))).code).toBe(Code.InvalidArgument);
    expect((await failure(signing.registerAsset({ projectId: 'prj_none', assetSha256: hash(9), signerId: 's', certificateId: 'c', signedAt: new Date().toISOString() }))).code).toBe(Code.NotFound);
  });

  it('lists with tag, kind and status filters, in either order, page by page', async () => {
    const newest = (await client.listAssets({ kind: 'ASSET' })).assets.map((a) => a.assetId);
    expect(newest).toEqual([...ids].reverse());
    const oldest = (await client.listAssets({ kind: 'ASSET', orderBy: 'created_at_asc' })).assets.map((a) => a.assetId);
    expect(oldest).toEqual(ids);
    expect((await client.listAssets({ tag: 'front-page' })).assets.map((a) => a.assetId).sort()).toEqual(ids.slice(0, 2).sort());
    expect((await client.listAssets({ kind: 'HASH_RECORD' })).assets).toHaveLength(1);
    const paged: string[] = [];
    let pageToken = '';
    do {
      const page = await client.listAssets({ kind: 'ASSET', orderBy: 'created_at_asc', pageSize: 2, pageToken });
      paged.push(...page.assets.map((a) => a.assetId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(paged).toEqual(ids);
    expect((await failure(client.listAssets({ orderBy: 'title' }))).code).toBe(Code.InvalidArgument);
    expect((await failure(client.listAssets({ status: 'GONE' }))).code).toBe(Code.InvalidArgument);
  });

  it('updates titles, descriptions and tags (added or replaced)', async () => {
    const added = (await client.updateAsset({ assetId: ids[2], title: 'Renamed', description: 'About it', tags: ['archive', 'news'] })).asset!;
    expect(added).toMatchObject({ title: 'Renamed', description: 'About it', tags: ['news', 'archive'] });
    const replaced = (await client.updateAsset({ assetId: ids[2], tags: ['only'], replaceTags: true })).asset!;
    expect(replaced.tags).toEqual(['only']);
    expect(replaced.title).toBe('Renamed');
    const cleared = (await client.updateAsset({ assetId: ids[2], replaceTags: true, description: '' })).asset!;
    expect(cleared).toMatchObject({ tags: [], description: '', title: 'Renamed' });
    expect((await failure(client.updateAsset({ assetId: ids[2], tags: [' '] }))).code).toBe(Code.InvalidArgument);
  });

  it('deletes: the asset is no longer found by hash nor changeable, and lists under DELETED', async () => {
    const readOnly = registryWithKey(mesh, (await projectWithKey(admin, ['verify'])).key);
    expect((await readOnly.lookupAssetByHash({ contentHash: hash(4) })).found).toBe(true);
    const deleted = (await client.deleteAsset({ assetId: ids[3] })).asset!;
    expect(deleted.status).toBe('DELETED');
    expect((await client.deleteAsset({ assetId: ids[3] })).asset?.status).toBe('DELETED');
    expect((await readOnly.lookupAssetByHash({ contentHash: hash(4) })).found).toBe(false);
    expect((await failure(client.updateAsset({ assetId: ids[3], title: 'x' }))).code).toBe(Code.FailedPrecondition);
    expect((await client.listAssets({ status: 'DELETED' })).assets.map((a) => a.assetId)).toEqual([ids[3]]);
    expect((await client.listAssets({ kind: 'ASSET' })).assets.map((a) => a.assetId)).not.toContain(ids[3]);
    expect((await failure(readOnly.lookupAssetByHash({ contentHash: 'abc' }))).code).toBe(Code.InvalidArgument);
  });

  it('finds the most recently signed asset when several share a hash', async () => {
    const later = await signing.registerAsset({ projectId, assetSha256: hash(1), signerId: 's2', certificateId: 'c2', signedAt: new Date(Date.now() + 5000).toISOString() });
    const found = await client.lookupAssetByHash({ contentHash: hash(1) });
    expect(found.asset?.assetId).toBe(later.asset?.assetId);
  });

  it('records verifications for the Verification service and answers its queries', async () => {
    const one = await verification.recordVerification({ assetSha256: hash(1), validationState: 'TRUSTED', source: 'BYTES', projectId, requestId: 'req_v1', format: 'image/jpeg', signer: 'c2pa-mesh default signer' });
    expect(one.verification).toMatchObject({ validationState: 'TRUSTED', projectId, source: 'BYTES' });
    await verification.recordVerification({ assetSha256: hash(2), validationState: 'INVALID', source: 'URL', errorCount: 2, firstErrorCode: 'assertion.dataHash.mismatch', requestId: 'req_v2' });
    await verification.recordVerification({ assetSha256: hash(3), validationState: 'VALID', source: 'HASH', projectId, requestId: 'req_v3', verifiedAt: '2020-01-01T00:00:00Z' });
    expect((await verification.queryVerifications({})).verifications.map((v) => v.requestId)).toEqual(['req_v2', 'req_v1', 'req_v3']);
    expect((await verification.queryVerifications({ projectId })).verifications.map((v) => v.requestId)).toEqual(['req_v1', 'req_v3']);
    expect((await verification.queryVerifications({ validationState: 'INVALID' })).verifications[0]).toMatchObject({ errorCount: 2, firstErrorCode: 'assertion.dataHash.mismatch', projectId: '' });
    expect((await verification.queryVerifications({ since: '2021-01-01T00:00:00Z', projectId })).verifications.map((v) => v.requestId)).toEqual(['req_v1']);
    expect((await verification.queryVerifications({ assetSha256: hash(3) })).verifications).toHaveLength(1);
    const first = await verification.queryVerifications({ pageSize: 2 });
    const second = await verification.queryVerifications({ pageSize: 2, pageToken: first.nextPageToken });
    expect([...first.verifications, ...second.verifications].map((v) => v.requestId)).toEqual(['req_v2', 'req_v1', 'req_v3']);
    expect(second.nextPageToken).toBe('');
    expect((await failure(verification.recordVerification({ assetSha256: hash(1), validationState: 'MAYBE', source: 'BYTES' }))).code).toBe(Code.InvalidArgument);
    expect((await failure(client.queryVerifications({}))).code).toBe(Code.PermissionDenied);
  });
  it('a registration asked again by the same request (its answer lost) gets the first entry, not a second', async () => {
    const { projectId: own } = await projectWithKey(admin, ['registry.read']);
    const body = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 0x88]);
    const request = {
      projectId: own,
      assetSha256: hash(77),
      signerId: 's',
      certificateId: 'c',
      requestId: 'req_retried',
      title: 'retried',
      signedAt: new Date().toISOString(),
      manifestLabel: 'urn:c2pa:retried',
      manifestStore: Uint8Array.from([9, 8, 7]),
      softBindings: [{ alg: 'io.iscc.v0', value: body }],
    };
    const first = (await signing.registerAsset(request)).asset!;
    const again = (await signing.registerAsset(request)).asset!;
    expect(again.assetId).toBe(first.assetId);
    // Stored with the entry, once.
    // (The fingerprint is compared by the database: int8 is read back as a JavaScript number.)
    const bindings = await mesh.db
      .selectFrom('soft_bindings')
      .select(['asset_id', 'project_id', 'manifest_label', 'value'])
      .where('asset_id', '=', first.assetId)
      .where('fingerprint', '=', Buffer.from(body).readBigInt64BE(0).toString())
      .execute();
    expect(bindings.map((b) => ({ ...b, value: [...b.value] }))).toEqual([{ asset_id: first.assetId, project_id: own, manifest_label: 'urn:c2pa:retried', value: [0x21, 0x01, ...body] }]);
    const stores = await mesh.db.selectFrom('manifest_stores').select(['asset_id', 'manifest_store']).where('manifest_label', '=', 'urn:c2pa:retried').execute();
    expect(stores.map((m) => [m.asset_id, [...m.manifest_store]])).toEqual([[first.assetId, [9, 8, 7]]]);
    // Another request that happens to carry the same bytes is another entry.
    const other = (await signing.registerAsset({ ...request, requestId: 'req_other' })).asset!;
    expect(other.assetId).not.toBe(first.assetId);
    expect((await admin.listAssets({ projectId: own })).assets.map((a) => a.assetId).sort()).toEqual([first.assetId, other.assetId].sort());
    // No project is read first: the entry's foreign key refuses a project that does not exist.
    const missing = await failure(signing.registerAsset({ ...request, projectId: 'prj_missing', requestId: 'req_missing' }));
    expect([missing.code, missing.rawMessage]).toEqual([Code.NotFound, 'no project prj_missing']);
  });
});
