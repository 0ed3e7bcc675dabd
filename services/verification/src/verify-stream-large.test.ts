import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { RegistryService, SigningService, VerificationService, verificationV1 } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createdManifest, flipMediaByte, hashMismatchCode, readMedia } from './test-support/media.js';

/**
 * VerifyStream above MESH_STREAM_VERIFY_THRESHOLD_BYTES (64 KiB here, so that the fixtures take
 * the large-asset path): the upload is spooled, the engine judges the manifest store alone and
 * the hard binding is recomputed from the file. Verify (the engine reading the whole asset in
 * memory) is the judge: the same state, codes and hash. The spool is empty after every call.
 */

const { ValidationState } = verificationV1;
let mesh: TestMesh;
let projectId: string;

beforeAll(async () => {
  mesh = await createTestMesh({ MESH_STREAM_VERIFY_THRESHOLD_BYTES: String(64 * 1024) });
  ({ projectId } = await createClient(RegistryService, mesh.transport(ADMIN_IDENTITY)).createProject({ name: 'large verification' }));
});
afterAll(async () => {
  await mesh?.close();
});

const verification = () => createClient(VerificationService, mesh.transport(ADMIN_IDENTITY));
const spooled = async () => readdir(path.join(mesh.config.dataDir, 'spool')).catch(() => []);
const codes = (entries: Array<{ code: string }>) => entries.map((e) => e.code);

async function* upload(asset: Uint8Array, format = '', totalSize = 0, chunkBytes = 40 * 1024) {
  yield create(verificationV1.VerifyStreamRequestSchema, { payload: { case: 'options', value: { format, totalSize: BigInt(totalSize) } } });
  for (let at = 0; at < asset.length; at += chunkBytes) yield create(verificationV1.VerifyStreamRequestSchema, { payload: { case: 'chunk', value: asset.subarray(at, at + chunkBytes) } });
}

async function signed(file: string, format: string) {
  const signing = createClient(SigningService, mesh.transport(ADMIN_IDENTITY));
  const original = readMedia(file);
  const { signedAsset } = await signing.sign({ asset: original, format, manifestJson: createdManifest(`large ${file}`), projectId });
  return { original, signedAsset };
}

describe('VerifyStream of large assets', () => {
  it.each([
    ['audio/wav', 'sample1.wav'],
    ['image/jpeg', 'no_manifest.jpg'],
    ['video/mp4', 'video1_no_manifest.mp4'],
    ['image/png', 'sample1.png'],
    ['audio/mpeg', 'sample1.mp3'],
  ])('%s: answers as Verify does, Trusted, and Invalid once one media byte changed', async (format, file) => {
    const { original, signedAsset } = await signed(file, format);
    for (const [asset, state] of [[signedAsset, ValidationState.TRUSTED], [flipMediaByte(original, signedAsset), ValidationState.INVALID]] as const) {
      const judge = await verification().verify({ asset, format });
      const streamed = await verification().verifyStream(upload(asset, format, asset.length));
      expect(judge.validationState).toBe(state);
      expect(streamed.validationState).toBe(state);
      expect(codes(streamed.errors)).toEqual(codes(judge.errors));
      expect(codes(streamed.successes)).toContain(state === ValidationState.TRUSTED ? hashMismatchCode(format).replace('mismatch', 'match') : 'claimSignature.validated');
      if (state === ValidationState.INVALID) expect(codes(streamed.errors)).toContain(hashMismatchCode(format));
      expect(streamed.assetSha256).toBe(judge.assetSha256);
      expect(streamed.registered).toBe(judge.registered);
      expect(streamed.activeManifestLabel).toBe(judge.activeManifestLabel);
      expect(streamed.title).toBe(`large ${file}`);
      expect(streamed.certificateStatus).toBe(judge.certificateStatus);
    }
    // Without options' total_size, and with the format sniffed: the same.
    const sniffed = await verification().verifyStream(upload(signedAsset));
    expect(sniffed.validationState).toBe(ValidationState.TRUSTED);
    expect(await spooled()).toEqual([]);
  });

  it('an unsigned large asset is not_found; a large TIFF (store not located by the mesh) is read by the engine as before', async () => {
    const unsigned = await verification().verifyStream(upload(readMedia('sample1.wav'), 'audio/wav')).catch((e: unknown) => ConnectError.from(e));
    expect(unsigned).toBeInstanceOf(ConnectError);
    expect((unsigned as ConnectError).code).toBe(Code.NotFound);
    const { signedAsset } = await signed('test.tiff', 'image/tiff');
    const tiff = await verification().verifyStream(upload(signedAsset, 'image/tiff'));
    expect(tiff.validationState).toBe(ValidationState.TRUSTED);
    expect(await spooled()).toEqual([]);
  });
});
