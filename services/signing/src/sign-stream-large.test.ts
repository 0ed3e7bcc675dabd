import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import { judgeWithC2paTs } from '@c2pa-mesh/engine/test-support/c2pa-ts-judge';
import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { signingV1 } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, createProject, failure, flipMediaByte, generatorManifest, hashMismatchCode, projectKey, readMedia, registryClient, signingClient, type SigningClient } from './test-support/signing-test-kit.js';

/**
 * SignStream above MESH_STREAM_SIGN_THRESHOLD_BYTES (64 KiB here, so that the fixtures take the
 * large-asset path): the upload is spooled under the data dir, the mesh writes the manifest
 * store itself, and c2pa-rs (mesh root as the only anchor) and c2pa-ts judge the result. The
 * spool is empty after every call, signed or refused.
 */

let mesh: TestMesh;
let projectId: string;

beforeAll(async () => {
  mesh = await createTestMesh({ MESH_STREAM_SIGN_THRESHOLD_BYTES: String(64 * 1024) });
  projectId = await createProject(mesh, 'Large media');
});
afterAll(async () => {
  await mesh?.close();
});

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
type Options = Partial<Omit<signingV1.SignStreamOptions, '$typeName'>>;

async function* upload(options: Options, asset: Uint8Array, chunkBytes = 48 * 1024) {
  yield create(signingV1.SignStreamRequestSchema, { payload: { case: 'options', value: create(signingV1.SignStreamOptionsSchema, options) } });
  for (let at = 0; at < asset.length; at += chunkBytes) {
    yield create(signingV1.SignStreamRequestSchema, { payload: { case: 'chunk', value: asset.subarray(at, at + chunkBytes) } });
  }
}

async function collect(client: SigningClient, requests: AsyncIterable<signingV1.SignStreamRequest>) {
  const chunks: Uint8Array[] = [];
  let result: signingV1.SignStreamResult | undefined;
  for await (const message of client.signStream(requests)) {
    if (message.payload.case === 'chunk') chunks.push(message.payload.value);
    else if (message.payload.case === 'result') result = message.payload.value;
  }
  return { signed: new Uint8Array(Buffer.concat(chunks)), result: result! };
}

const spooled = async () => readdir(path.join(mesh.config.dataDir, 'spool')).catch(() => []);

/** c2pa-rs adds its own name to what it writes; the streaming signer does not. */
const writtenByEngine = (manifestStoreJson: string) => manifestStoreJson.includes('org.contentauth.c2pa_rs');

describe('SignStream of large assets', () => {
  it.each([
    ['audio/wav', 'sample1.wav', true],
    ['image/jpeg', 'no_manifest.jpg', false],
    ['video/avi', 'video1.avi', false],
    ['video/mp4', 'video1_no_manifest.mp4', true],
    ['image/png', 'sample1.png', true],
    ['audio/mpeg', 'sample1.mp3', false],
  ])('signs a %s (%s) from the spool: Trusted in c2pa-rs, registered, one media byte changed reads Invalid', async (format, file, announced) => {
    const original = readMedia(file);
    const options: Options = { format, manifestJson: generatorManifest(`large ${file}`), projectId, tags: ['large'], ...(announced ? { totalSize: BigInt(original.length) } : {}) };
    const { signed, result } = await collect(signingClient(mesh), upload(options, original));
    expect(result).toMatchObject({ format, assetSha256: sha256(signed), inputSha256: sha256(original), sizeBytes: BigInt(signed.length), intent: signingV1.SignIntent.CREATE });
    expect(writtenByEngine(result.manifestStoreJson)).toBe(false);
    expect(JSON.parse(result.manifestStoreJson).active_manifest).toBe(result.activeManifestLabel);

    const report = await mesh.engine!.read({ format, asset: signed, trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(report?.validationState, JSON.stringify(report?.errors)).toBe('Trusted');
    expect(codes(report?.successes)).toEqual(expect.arrayContaining([hashMismatchCode(format).replace('mismatch', 'match'), 'timeStamp.trusted', 'signingCredential.ocsp.notRevoked']));
    expect(report?.activeManifestLabel).toBe(result.activeManifestLabel);
    expect(report?.title).toBe(`large ${file}`);
    expect(writtenByEngine(report!.manifestStoreJson)).toBe(false);

    const tampered = await mesh.engine!.read({ format, asset: flipMediaByte(original, signed), trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(tampered?.validationState).toBe('Invalid');
    expect(codes(tampered?.errors)).toContain(hashMismatchCode(format));

    const { asset } = await registryClient(mesh).getAsset({ assetId: result.assetId });
    expect(asset).toMatchObject({ assetSha256: result.assetSha256, inputSha256: result.inputSha256, manifestLabel: result.activeManifestLabel, tags: ['large'] });
    if (format === 'image/jpeg' || format === 'image/png') {
      const verdict = await judgeWithC2paTs(signed);
      expect(verdict.explained).toEqual([]);
      expect(verdict.successes).toEqual(expect.arrayContaining(['assertion.dataHash.match', 'claimSignature.validated']));
    }
    expect(await spooled()).toEqual([]);
  });

  it('keeps the engine path for assets under the threshold and formats the streaming signer does not write', async () => {
    for (const [format, file] of [['image/webp', 'sample1.webp'], ['image/tiff', 'test.tiff']] as const) {
      const original = readMedia(file);
      if (format === 'image/webp') expect(original.length).toBeLessThan(64 * 1024);
      else expect(original.length).toBeGreaterThan(64 * 1024);
      const { result } = await collect(signingClient(mesh), upload({ format, manifestJson: generatorManifest('engine path'), projectId }, original));
      expect(writtenByEngine(result.manifestStoreJson)).toBe(true);
    }
  });

  it('refuses what the streaming signer cannot write with failed_precondition, and leaves no spooled file', async () => {
    const wav = readMedia('sample1.wav');
    const edit = await failure(collect(signingClient(mesh), upload({ format: 'audio/wav', manifestJson: generatorManifest('edit'), projectId, intent: signingV1.SignIntent.EDIT }, wav)));
    expect(edit.code).toBe(Code.FailedPrecondition);
    expect(edit.rawMessage).toMatch(/streaming signer, which writes new manifests only/);

    const ingredient = await failure(
      collect(signingClient(mesh), upload({ format: 'audio/wav', manifestJson: generatorManifest('with ingredient', { ingredients: [{ title: 'a.wav', relationship: 'componentOf', format: 'audio/wav' }] }), projectId }, wav)),
    );
    expect(ingredient.code).toBe(Code.FailedPrecondition);
    expect(ingredient.rawMessage).toMatch(/^manifest_json: ingredients lists ingredients; the streaming signer of large assets cannot write it yet/);

    // A WAV that already carries a manifest (signed here on the large path) is not re-signed.
    const { signed } = await collect(signingClient(mesh), upload({ format: 'audio/wav', manifestJson: generatorManifest('first'), projectId }, wav));
    const again = await failure(collect(signingClient(mesh), upload({ format: 'audio/wav', manifestJson: generatorManifest('second'), projectId }, signed)));
    expect(again.code).toBe(Code.FailedPrecondition);
    expect(again.rawMessage).toMatch(/already carries a C2PA manifest/);

    const truncated = await failure(collect(signingClient(mesh), upload({ format: 'audio/wav', manifestJson: generatorManifest('cut'), projectId }, wav.subarray(0, wav.length - 1001))));
    expect(truncated.code).toBe(Code.InvalidArgument);
    expect(await spooled()).toEqual([]);
  });

  it('removes the spooled upload when the caller goes away mid-upload or mid-download', async () => {
    const wav = readMedia('sample1.wav');
    // Mid-upload: the client stops sending after half the file and cancels.
    const midUpload = new AbortController();
    async function* halfThenCancel() {
      let sent = 0;
      for await (const message of upload({ format: 'audio/wav', manifestJson: generatorManifest('cancelled'), projectId }, wav)) {
        yield message;
        sent += message.payload.case === 'chunk' ? message.payload.value.length : 0;
        if (sent > wav.length / 2) {
          // Let the spool take what was sent, then go away.
          await new Promise((resolve) => setTimeout(resolve, 200));
          midUpload.abort();
          return;
        }
      }
    }
    await expect(
      (async () => {
        for await (const _ of signingClient(mesh).signStream(halfThenCancel(), { signal: midUpload.signal })) void _;
      })(),
    ).rejects.toThrow();
    // Mid-download: the first signed chunk arrives, then the caller cancels.
    const midDownload = new AbortController();
    await expect(
      (async () => {
        for await (const message of signingClient(mesh).signStream(upload({ format: 'audio/wav', manifestJson: generatorManifest('cancelled'), projectId }, wav), { signal: midDownload.signal })) {
          if (message.payload.case === 'chunk') midDownload.abort();
        }
      })(),
    ).rejects.toThrow();
    await expect.poll(spooled, { timeout: 10_000 }).toEqual([]);
  });

  it('sends the signed asset back while the upload still arrives (RIFF, BMFF), the manifest store last', async () => {
    for (const [format, file] of [['audio/wav', 'sample1.wav'], ['video/mp4', 'video1_no_manifest.mp4']] as const) {
      const original = readMedia(file);
      // The caller sends half, then waits for signed bytes before it sends the rest: a signer that
      // needs the whole upload first never answers.
      let firstSigned: () => void = () => undefined;
      const answered = new Promise<void>((resolve) => (firstSigned = resolve));
      let sentWhenAnswered = -1;
      let sent = 0;
      async function* halfThenWait() {
        for await (const message of upload({ format, manifestJson: generatorManifest('one pass'), projectId, totalSize: BigInt(original.length) }, original)) {
          yield message;
          sent += message.payload.case === 'chunk' ? message.payload.value.length : 0;
          if (sent > original.length / 2 && sentWhenAnswered < 0) {
            await Promise.race([answered, new Promise((_, reject) => setTimeout(() => reject(new Error('no signed bytes while the upload was arriving')), 10_000))]);
          }
        }
      }
      const chunks: Uint8Array[] = [];
      let result: signingV1.SignStreamResult | undefined;
      for await (const message of signingClient(mesh).signStream(halfThenWait())) {
        if (message.payload.case === 'chunk') {
          if (chunks.length === 0) {
            sentWhenAnswered = sent;
            firstSigned();
          }
          chunks.push(message.payload.value);
        } else if (message.payload.case === 'result') result = message.payload.value;
      }
      expect(sentWhenAnswered).toBeLessThan(original.length);
      const signed = new Uint8Array(Buffer.concat(chunks));
      expect(result).toMatchObject({ assetSha256: sha256(signed), inputSha256: sha256(original), sizeBytes: BigInt(signed.length) });
      const report = await mesh.engine!.read({ format, asset: signed, trustAnchorsPem: mesh.pki.c2paRoot.pem });
      expect(report?.validationState, JSON.stringify(report?.errors)).toBe('Trusted');
      if (format === 'audio/wav') expect(Buffer.from(signed.subarray(4, 8)).readUInt32LE()).toBe(signed.length - 8);

      // A caller that reads the first piece, then nothing until it has sent everything: the
      // signed bytes wait in the spool, not in memory, and its upload is not held up.
      let uploaded: () => void = () => undefined;
      const allSent = new Promise<void>((resolve) => (uploaded = resolve));
      async function* sendAll() {
        yield* upload({ format, manifestJson: generatorManifest('read late'), projectId }, original);
        uploaded();
      }
      const late: Uint8Array[] = [];
      let lateResult: signingV1.SignStreamResult | undefined;
      for await (const message of signingClient(mesh).signStream(sendAll())) {
        if (message.payload.case === 'chunk') {
          if (late.length === 0) await allSent;
          late.push(message.payload.value);
        } else if (message.payload.case === 'result') lateResult = message.payload.value;
      }
      const lateSigned = new Uint8Array(Buffer.concat(late));
      expect(lateResult).toMatchObject({ assetSha256: sha256(lateSigned), inputSha256: sha256(original) });
      expect((await mesh.engine!.read({ format, asset: lateSigned, trustAnchorsPem: mesh.pki.c2paRoot.pem }))?.validationState).toBe('Trusted');
    }
    expect(await spooled()).toEqual([]);
  });


  it('registers nothing and leaves no spooled file when the upload ends early or breaks its format midway', async () => {
    const before = (await registryClient(mesh).listAssets({ projectId })).assets.length;
    const wav = readMedia('sample1.wav');
    const mp4 = readMedia('video1_no_manifest.mp4');
    const short = await failure(collect(signingClient(mesh), upload({ format: 'audio/wav', manifestJson: generatorManifest('short'), projectId, totalSize: BigInt(wav.length) }, wav.subarray(0, wav.length - 5000))));
    expect(short.code).toBe(Code.InvalidArgument);
    expect(short.rawMessage).toMatch(/incomplete/);
    // The last box (mdat) claims more than the file holds: found only when the upload ends, after its bytes went back.
    const broken = new Uint8Array(mp4);
    const view = new DataView(broken.buffer);
    const boxSize = (at: number) => (view.getUint32(at) === 1 ? Number(view.getBigUint64(at + 8)) : view.getUint32(at));
    let last = 0;
    for (let at = 0; at < broken.length; at += boxSize(at)) last = at;
    if (view.getUint32(last) === 1) view.setBigUint64(last + 8, BigInt(boxSize(last) + 1000));
    else view.setUint32(last, boxSize(last) + 1000);
    const cut = await failure(collect(signingClient(mesh), upload({ format: 'video/mp4', manifestJson: generatorManifest('cut'), projectId }, broken)));
    expect(cut.code).toBe(Code.InvalidArgument);
    expect(cut.rawMessage).toMatch(/runs past the end/);
    expect((await registryClient(mesh).listAssets({ projectId })).assets.length).toBe(before);
    expect(await spooled()).toEqual([]);
  });

  it("keeps an API key's own size limit on the large path", async () => {
    const wav = readMedia('sample1.wav');
    const error = await failure(collect(signingClient(mesh, projectKey(projectId, { maxAssetBytes: 500_000 })), upload({ format: 'audio/wav', manifestJson: generatorManifest('limited') }, wav)));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(await spooled()).toEqual([]);
  });
});
