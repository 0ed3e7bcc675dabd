import { createHash } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { signingV1 } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNED_CHUNK_BYTES } from './sign-stream.js';
import {
  codes,
  createProject,
  failure,
  flipMediaByte,
  generatorManifest,
  hashMismatchCode,
  MORE_FORMATS,
  projectKey,
  readMedia,
  registryClient,
  signingClient,
  type SigningClient,
} from './test-support/signing-test-kit.js';

let mesh: TestMesh;
let projectId: string;

beforeAll(async () => {
  mesh = await createTestMesh();
  projectId = await createProject(mesh, 'Streams');
});
afterAll(async () => {
  await mesh?.close();
});

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

type Options = Partial<Omit<signingV1.SignStreamOptions, '$typeName'>>;

/** The upload as a client sends it, counting the messages the service actually pulled. */
function upload(options: Options | undefined, asset: Uint8Array, chunkBytes = 64 * 1024, repeat = 1) {
  const pulled = { messages: 0 };
  async function* messages() {
    if (options !== undefined) {
      pulled.messages++;
      yield create(signingV1.SignStreamRequestSchema, { payload: { case: 'options', value: create(signingV1.SignStreamOptionsSchema, options) } });
    }
    for (let r = 0; r < repeat; r++) {
      for (let at = 0; at < asset.length; at += chunkBytes) {
        pulled.messages++;
        yield create(signingV1.SignStreamRequestSchema, { payload: { case: 'chunk', value: asset.subarray(at, at + chunkBytes) } });
      }
    }
  }
  return { messages: messages(), pulled };
}

async function collect(client: SigningClient, requests: AsyncIterable<signingV1.SignStreamRequest>) {
  const chunks: Uint8Array[] = [];
  let result: signingV1.SignStreamResult | undefined;
  for await (const message of client.signStream(requests)) {
    if (message.payload.case === 'chunk') {
      expect(result, 'no chunk after the result').toBeUndefined();
      chunks.push(message.payload.value);
    } else if (message.payload.case === 'result') {
      result = message.payload.value;
    }
  }
  return { signed: Buffer.concat(chunks), chunks, result: result! };
}

describe('SignStream', () => {
  it('signs a WAV sent in chunks with total_size, and streams it back', async () => {
    const wav = readMedia('sample1.wav');
    const { messages } = upload({ format: 'audio/wav', manifestJson: generatorManifest('streamed WAV'), projectId, totalSize: BigInt(wav.length), tags: ['stream'] }, wav);
    const { signed, chunks, result } = await collect(signingClient(mesh), messages);
    expect(chunks.length).toBe(Math.ceil(signed.length / SIGNED_CHUNK_BYTES));
    expect(chunks.slice(0, -1).every((c) => c.length === SIGNED_CHUNK_BYTES)).toBe(true);
    expect(result).toMatchObject({ format: 'audio/wav', assetSha256: sha256(signed), inputSha256: sha256(wav), sizeBytes: BigInt(signed.length), signerId: mesh.pki.defaultSignerId });
    const report = await mesh.engine!.read({ format: 'audio/wav', asset: signed, trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(report?.validationState).toBe('Trusted');
    expect(codes(report?.successes)).toEqual(expect.arrayContaining(['timeStamp.validated', 'timeStamp.trusted', 'signingCredential.ocsp.notRevoked']));
    expect(report?.activeManifestLabel).toBe(result.activeManifestLabel);
    const { asset } = await registryClient(mesh).getAsset({ assetId: result.assetId });
    expect(asset).toMatchObject({ assetSha256: result.assetSha256, inputSha256: result.inputSha256, format: 'audio/wav', tags: ['stream'], requestId: result.requestId });
  });

  it('signs an M4A of unannounced size sent in uneven chunks', async () => {
    const m4a = readMedia('sample1.m4a');
    const { messages } = upload({ format: 'audio/mp4', manifestJson: generatorManifest('streamed M4A'), projectId }, m4a, 300_001);
    const { signed, chunks, result } = await collect(signingClient(mesh), messages);
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    expect(result.assetSha256).toBe(sha256(signed));
    expect(result.inputSha256).toBe(sha256(m4a));
    const report = await mesh.engine!.read({ format: 'audio/mp4', asset: signed, trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(report?.validationState).toBe('Trusted');
  });

  it.each(MORE_FORMATS.map((s) => [s.format, s.file]))('signs %s (%s) sent in 1 KiB chunks: Trusted, and Invalid once a media byte changes', async (format, file) => {
    const original = readMedia(file);
    const { messages } = upload({ format, manifestJson: generatorManifest(`streamed ${file}`), projectId, totalSize: BigInt(original.length) }, original, 1024);
    const { signed, result } = await collect(signingClient(mesh), messages);
    expect(result).toMatchObject({ format, assetSha256: sha256(signed), inputSha256: sha256(original) });
    const read = (asset: Uint8Array) => mesh.engine!.read({ format, asset, trustAnchorsPem: mesh.pki.c2paRoot.pem });
    const report = await read(signed);
    expect(report?.validationState).toBe('Trusted');
    expect(report?.title).toBe(`streamed ${file}`);
    const tampered = await read(flipMediaByte(original, signed));
    expect(tampered?.validationState).toBe('Invalid');
    expect(codes(tampered?.errors)).toContain(hashMismatchCode(format));
  });

  const jpeg = readMedia('no_manifest.jpg');
  const manifestJson = generatorManifest('refused stream');

  it('refuses a stream whose first message is not the options, or with options twice', async () => {
    const noOptions = await failure(collect(signingClient(mesh), upload(undefined, jpeg).messages));
    expect(noOptions.code).toBe(Code.InvalidArgument);
    expect(noOptions.rawMessage).toMatch(/^the first SignStream message must carry the options/);

    async function* twice() {
      const options = create(signingV1.SignStreamOptionsSchema, { format: 'image/jpeg', manifestJson, projectId });
      yield create(signingV1.SignStreamRequestSchema, { payload: { case: 'options', value: options } });
      yield create(signingV1.SignStreamRequestSchema, { payload: { case: 'chunk', value: jpeg.subarray(0, 5000) } });
      yield create(signingV1.SignStreamRequestSchema, { payload: { case: 'options', value: options } });
    }
    const again = await failure(collect(signingClient(mesh), twice()));
    expect(again.code).toBe(Code.InvalidArgument);
    expect(again.rawMessage).toMatch(/^options may only be sent in the first SignStream message/);

    async function* empty() {}
    expect((await failure(collect(signingClient(mesh), empty()))).code).toBe(Code.InvalidArgument);
  });

  it('refuses an announced total_size over the limit before reading any chunk', async () => {
    const client = signingClient(mesh, projectKey(projectId, { maxAssetBytes: 200_000 }));
    const { messages, pulled } = upload({ format: 'image/jpeg', manifestJson, totalSize: 5_000_000n }, jpeg, 64 * 1024, 60);
    const error = await failure(collect(client, messages));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toMatch(/^the asset is 5000000 bytes \(4\.8 MiB\); this caller may sign assets of at most 200000 bytes/);
    expect(pulled.messages).toBeLessThan(10);
  });

  it('stops reading as soon as an upload of unannounced size passes the limit', async () => {
    const client = signingClient(mesh, projectKey(projectId, { maxAssetBytes: 200_000 }));
    // 60 × 97 KB ≈ 5.8 MB offered; the limit is passed on the fourth chunk.
    const { messages, pulled } = upload({ format: 'image/jpeg', manifestJson }, jpeg, 64 * 1024, 60);
    const error = await failure(collect(client, messages));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toBe('the asset is more than 200000 bytes; this caller may sign assets of at most 200000 bytes (0.2 MiB)');
    expect(pulled.messages).toBeLessThan(15);
  });

  it('refuses an upload that does not add up to total_size', async () => {
    const short = await failure(collect(signingClient(mesh), upload({ format: 'image/jpeg', manifestJson, projectId, totalSize: BigInt(jpeg.length + 10) }, jpeg).messages));
    expect(short.code).toBe(Code.InvalidArgument);
    expect(short.rawMessage).toBe(`received ${jpeg.length} bytes but total_size announced ${jpeg.length + 10}; the upload is incomplete`);
    const long = await failure(collect(signingClient(mesh), upload({ format: 'image/jpeg', manifestJson, projectId, totalSize: 1000n }, jpeg).messages));
    expect(long.code).toBe(Code.InvalidArgument);
    expect(long.rawMessage).toBe('received more than the 1000 bytes total_size announced');
  });

  it('refuses mislabelled bytes after the first kilobytes, without reading the rest', async () => {
    const { messages, pulled } = upload({ format: 'audio/wav', manifestJson, projectId }, jpeg, 8 * 1024, 60);
    const error = await failure(collect(signingClient(mesh), messages));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe('declared audio/wav but the bytes are a JPEG');
    expect(pulled.messages).toBeLessThan(20);
  });

  it('refuses bad options (format, manifest, project) before the upload', async () => {
    const badFormat = await failure(collect(signingClient(mesh), upload({ format: 'application/c2pa', manifestJson, projectId }, jpeg).messages));
    expect(badFormat.code).toBe(Code.FailedPrecondition);
    const badManifest = await failure(collect(signingClient(mesh), upload({ format: 'image/jpeg', manifestJson: '{', projectId }, jpeg).messages));
    expect(badManifest.code).toBe(Code.InvalidArgument);
    expect(badManifest.rawMessage).toMatch(/^manifest_json is not valid JSON/);
    const noProject = await failure(collect(signingClient(mesh), upload({ format: 'image/jpeg', manifestJson }, jpeg).messages));
    expect(noProject.code).toBe(Code.InvalidArgument);
    expect(noProject.rawMessage).toMatch(/^project_id is required/);
    const tiny = await failure(collect(signingClient(mesh), upload({ format: 'image/jpeg', manifestJson, projectId }, jpeg.subarray(0, 50)).messages));
    expect(tiny.code).toBe(Code.InvalidArgument);
    expect(tiny.rawMessage).toMatch(/^asset is only 50 bytes/);
  });
});
