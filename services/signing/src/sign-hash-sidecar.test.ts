import { createHash } from 'node:crypto';
import { Code } from '@connectrpc/connect';
import { JPEG } from '@trustnxt/c2pa-ts/asset';
import { SuperBox } from '@trustnxt/c2pa-ts/jumbf';
import { ManifestStore, ValidationResult } from '@trustnxt/c2pa-ts/manifest';
import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, createProject, failure, readMedia, signingClient } from './test-support/signing-test-kit.js';

/**
 * SignHash with `c2pa_manifest_store`: a `.c2pa` sidecar whose hard binding is the SHA-256 of the
 * whole file. c2pa-ts (an independent reader) validates it next to the file; c2pa-rs checks its
 * claim signature and trust from the store alone.
 */

let mesh: TestMesh;
let projectId: string;

beforeAll(async () => {
  mesh = await createTestMesh();
  projectId = await createProject(mesh, 'Sidecars');
});
afterAll(async () => {
  await mesh?.close();
});

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function judgeSidecar(store: Uint8Array, file: Uint8Array) {
  let result: ValidationResult;
  try {
    result = await ManifestStore.read(SuperBox.fromBuffer(new Uint8Array(store))).validate(new JPEG(new Uint8Array(file)));
  } catch (error) {
    result = ValidationResult.fromError(error as Error);
  }
  return { valid: result.isValid, errors: result.statusEntries.filter((e) => !e.success).map((e) => e.code), successes: result.statusEntries.filter((e) => e.success).map((e) => e.code) };
}

describe('SignHash with a C2PA manifest store', () => {
  it('returns a sidecar c2pa-ts validates beside the file, and c2pa-rs validates its signature, time-stamp and trust from the store alone', async () => {
    const jpeg = readMedia('no_manifest.jpg');
    const response = await signingClient(mesh).signHash({ contentHash: sha256(jpeg), headline: 'Harbour at dawn', contentType: 'AI_GENERATED', projectId, format: 'image/jpeg', c2paManifestStore: true });
    expect(response.c2paManifestStore.length).toBeGreaterThan(1000);
    expect(response.c2paManifestLabel).toMatch(/^urn:c2pa:/);

    const verdict = await judgeSidecar(response.c2paManifestStore, jpeg);
    expect(verdict.errors).toEqual([]);
    expect(verdict.valid).toBe(true);
    expect(verdict.successes).toEqual(expect.arrayContaining(['assertion.dataHash.match', 'claimSignature.validated', 'timeStamp.trusted']));

    const altered = jpeg.slice();
    altered[Math.floor(altered.length * 0.6)] ^= 0x01;
    const tampered = await judgeSidecar(response.c2paManifestStore, altered);
    expect(tampered.valid).toBe(false);
    expect(tampered.errors).toContain('assertion.dataHash.mismatch');

    const report = await mesh.engine!.read({ format: 'application/c2pa', asset: response.c2paManifestStore, trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(report?.activeManifestLabel).toBe(response.c2paManifestLabel);
    expect(report?.title).toBe('Harbour at dawn');
    expect(codes(report?.successes)).toEqual(expect.arrayContaining(['claimSignature.validated', 'signingCredential.trusted', 'timeStamp.trusted']));
    const actions = JSON.parse(report!.manifestStoreJson).manifests[response.c2paManifestLabel].assertions.find((a: { label: string }) => a.label === 'c2pa.actions.v2');
    expect(actions.data.actions[0]).toMatchObject({ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia' });
  });

  it('returns no store unless asked, and refuses a manifest the writer cannot express before signing', async () => {
    const plain = await signingClient(mesh).signHash({ contentHash: sha256(new Uint8Array([1, 2, 3])), headline: 'plain', projectId });
    expect(plain.c2paManifestStore.length).toBe(0);
    const refused = await failure(
      signingClient(mesh).signHash({
        contentHash: sha256(new Uint8Array([4])),
        headline: 'refused',
        projectId,
        c2paManifestStore: true,
        manifestJson: JSON.stringify({ ingredients: [{ title: 'a.jpg', relationship: 'componentOf' }] }),
      }),
    );
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect(refused.rawMessage).toMatch(/ingredients/);
  });
});
