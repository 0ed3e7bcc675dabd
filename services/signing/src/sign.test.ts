import { createHash } from 'node:crypto';
import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESH_CLAIM_GENERATOR } from './manifest-definition.js';
import {
  MORE_FORMATS,
  TEN_FORMATS,
  TRAINED_ALGORITHMIC_MEDIA,
  codes,
  createProject,
  flipMediaByte,
  generatorManifest,
  hashMismatchCode,
  readMedia,
  registryClient,
  signingClient,
} from './test-support/signing-test-kit.js';

/**
 * Sign through the service (the whole mesh in memory: CA, TSA, OCSP responder, registry), then
 * judge the output with c2pa-rs, the mesh's C2PA root as the only trust anchor.
 */

let mesh: TestMesh;
let projectId: string;
const signed = new Map<string, { response: Awaited<ReturnType<ReturnType<typeof signingClient>['sign']>>; original: Uint8Array }>();

beforeAll(async () => {
  mesh = await createTestMesh();
  await mesh.engine!.warmup();
  projectId = await createProject(mesh, 'Ten formats');
});
afterAll(async () => {
  await mesh?.close();
});

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const read = (format: string, asset: Uint8Array) => mesh.engine!.read({ format, asset, trustAnchorsPem: mesh.pki.c2paRoot.pem });

describe.each([...TEN_FORMATS, ...MORE_FORMATS].map((s) => [s.format, s.file]))('%s (%s)', (format, file) => {
  it('signs through the service and reads back Trusted, time-stamped, with the OCSP staple', async () => {
    const original = readMedia(file);
    const before = Date.now();
    const response = await signingClient(mesh).sign({ asset: original, format, manifestJson: generatorManifest(`${file} via Sign`), projectId, tags: ['ten-formats'] });
    signed.set(format, { response, original });

    expect(response.signedAsset.length).toBeGreaterThan(original.length);
    expect(response.format).toBe(format);
    expect(response.assetSha256).toBe(sha256(response.signedAsset));
    expect(response.inputSha256).toBe(sha256(original));
    expect(response.sizeBytes).toBe(BigInt(response.signedAsset.length));
    expect(response.activeManifestLabel).toMatch(/^urn:c2pa:/);
    expect(JSON.parse(response.manifestStoreJson).active_manifest).toBe(response.activeManifestLabel);
    expect(response.requestId).toMatch(/^req_/);
    expect(response.signerId).toBe(mesh.pki.defaultSignerId);
    expect(response.certificateId).toBe(mesh.pki.defaultSignerId);
    expect(Date.parse(response.signedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(response.signedAt)).toBeLessThanOrEqual(Date.now() + 1000);

    const report = await read(format, response.signedAsset);
    expect(report?.validationState).toBe('Trusted');
    expect(codes(report?.errors)).toEqual([]);
    expect(codes(report?.successes)).toEqual(
      expect.arrayContaining(['timeStamp.validated', 'timeStamp.trusted', 'signingCredential.ocsp.notRevoked', 'signingCredential.trusted', 'claimSignature.validated']),
    );
    expect(report?.activeManifestLabel).toBe(response.activeManifestLabel);
    expect(report?.title).toBe(`${file} via Sign`);
    expect(report?.claimGenerator).toBe(`${MESH_CLAIM_GENERATOR.name}/${MESH_CLAIM_GENERATOR.version}`);
    expect(report?.signer?.commonName).toBe('c2pa-mesh default signer');
    // The signing time c2pa-rs reads is the time-stamp's genTime, which the service returned.
    expect(Date.parse(report!.signedAt!)).toBe(Math.floor(Date.parse(response.signedAt) / 1000) * 1000);
    const store = JSON.parse(report!.manifestStoreJson);
    const actions = store.manifests[response.activeManifestLabel].assertions.find((a: { label: string }) => a.label.startsWith('c2pa.actions'));
    expect(actions.data.actions[0]).toMatchObject({ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA });
  });

  it('reads Invalid with the hash mismatch when one byte of media data changes', async () => {
    const { response, original } = signed.get(format)!;
    const report = await read(format, flipMediaByte(original, response.signedAsset));
    expect(report?.validationState).toBe('Invalid');
    expect(codes(report?.errors)).toContain(hashMismatchCode(format));
  });

  it('registers the signed asset with both hashes, format, size, signer, manifest label and request id', async () => {
    const { response } = signed.get(format)!;
    const { asset } = await registryClient(mesh).getAsset({ assetId: response.assetId });
    expect(asset).toMatchObject({
      assetId: response.assetId,
      projectId,
      kind: 'ASSET',
      assetSha256: response.assetSha256,
      inputSha256: response.inputSha256,
      format,
      sizeBytes: response.sizeBytes,
      signerId: response.signerId,
      certificateId: response.certificateId,
      manifestLabel: response.activeManifestLabel,
      requestId: response.requestId,
      title: `${file} via Sign`,
      tags: ['ten-formats'],
      status: 'ACTIVE',
    });
    expect(Date.parse(asset!.signedAt)).toBe(Date.parse(response.signedAt));
  });
});

describe('audit', () => {
  it('records each Sign under the project it signed for, with format and size', async () => {
    const { events } = await registryClient(mesh).listAuditEvents({ projectId, operation: 'Sign', pageSize: 100 });
    const jpeg = signed.get('image/jpeg')!;
    const event = events.find((e) => e.requestId === jpeg.response.requestId);
    expect(event).toMatchObject({ operation: 'Sign', projectId, format: 'image/jpeg', sizeBytes: BigInt(jpeg.original.length) });
    expect(events.filter((e) => e.status.toLowerCase() !== 'error').length).toBeGreaterThanOrEqual(TEN_FORMATS.length);
  });
});
