import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { create } from '@bufbuild/protobuf';
import { createEngine, type C2paEngine } from '@c2pa-mesh/engine';
import { RegistryService, SigningService, signingV1 } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, removeDir } from '../support/cleanup.js';
import { meshClient, type ClientCredentials } from '../support/mesh-clients.js';
import { FIXTURES, startMeshProcess, type MeshProcess } from '../support/start-mesh.js';

/**
 * Signing against the mesh as `npm start` runs it: real TLS with client certificates, the JSON
 * protocol from curl, gRPC streaming, and the four-process layout where the signing service
 * reaches the CA and the registry over mTLS. The output is judged by c2pa-rs in this process,
 * with only the root file the mesh wrote as trust anchor.
 */

const run = promisify(execFile);
const TRAINED = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
const manifest = (title: string) =>
  JSON.stringify({ title, assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED }] } }] });
const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const media = (file: string) => new Uint8Array(readFileSync(path.join(FIXTURES, file)));

let engine: C2paEngine;
beforeAll(async () => {
  engine = createEngine({ threads: 1 });
  await engine.warmup();
});
afterAll(() => cleanUp({ engine: () => engine?.close() }));

async function judge(format: string, asset: Uint8Array, rootPath: string) {
  const report = await engine.read({ format, asset, trustAnchorsPem: await readFile(rootPath, 'utf8') });
  return {
    state: report?.validationState,
    errors: report?.errors.map((e) => e.code) ?? [],
    successes: report?.successes.map((e) => e.code) ?? [],
    title: report?.title,
  };
}

const LTV = ['timeStamp.validated', 'timeStamp.trusted', 'signingCredential.ocsp.notRevoked'];

describe('signing on the mesh started as `npm start` does', () => {
  let mesh: MeshProcess;
  let scratch: string;
  let projectId: string;
  const admin = (): ClientCredentials => ({ caPath: mesh.files.meshCa, certPath: mesh.files.adminCert, keyPath: mesh.files.adminKey });

  beforeAll(async () => {
    mesh = await startMeshProcess();
    scratch = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-e2e-signing-'));
    ({ projectId } = await meshClient(RegistryService, mesh.url, admin()).createProject({ name: 'e2e newsroom' }));
  });
  afterAll(() => cleanUp({ mesh: () => mesh?.stop(), scratch: () => removeDir(scratch) }));

  it('signs a JPEG over Connect with the admin client certificate; c2pa-rs reads it Trusted with time-stamp and OCSP', async () => {
    const jpeg = media('no_manifest.jpg');
    const client = meshClient(SigningService, mesh.url, admin());
    let requestIdHeader: string | null = null;
    const response = await client.sign(
      { asset: jpeg, format: 'image/jpeg', manifestJson: manifest('e2e over Connect'), projectId },
      { onHeader: (headers) => (requestIdHeader = headers.get('x-request-id')) },
    );
    expect(response.requestId).toBe(requestIdHeader);
    expect(response.assetSha256).toBe(sha256(response.signedAsset));
    const verdict = await judge('image/jpeg', response.signedAsset, mesh.files.c2paRoot);
    expect(verdict).toMatchObject({ state: 'Trusted', errors: [], title: 'e2e over Connect' });
    expect(verdict.successes).toEqual(expect.arrayContaining(LTV));
  });

  it('streams a WAV both ways over gRPC', async () => {
    const wav = media('sample1.wav');
    async function* upload() {
      yield create(signingV1.SignStreamRequestSchema, {
        payload: { case: 'options', value: create(signingV1.SignStreamOptionsSchema, { format: 'audio/wav', manifestJson: manifest('e2e stream'), projectId, totalSize: BigInt(wav.length) }) },
      });
      for (let at = 0; at < wav.length; at += 256 * 1024) {
        yield create(signingV1.SignStreamRequestSchema, { payload: { case: 'chunk', value: wav.subarray(at, at + 256 * 1024) } });
      }
    }
    const chunks: Uint8Array[] = [];
    let result: signingV1.SignStreamResult | undefined;
    for await (const message of meshClient(SigningService, mesh.url, admin(), 'grpc').signStream(upload())) {
      if (message.payload.case === 'chunk') chunks.push(message.payload.value);
      if (message.payload.case === 'result') result = message.payload.value;
    }
    const signed = Buffer.concat(chunks);
    expect(result).toMatchObject({ assetSha256: sha256(signed), inputSha256: sha256(wav), format: 'audio/wav' });
    const verdict = await judge('audio/wav', signed, mesh.files.c2paRoot);
    expect(verdict.state).toBe('Trusted');
    expect(verdict.successes).toEqual(expect.arrayContaining(LTV));
  });

  it('signs a JPEG from curl with JSON (asset in base64), as the README shows', async () => {
    const signedPath = path.join(scratch, 'photo-signed.jpg');
    // The README's commands, run by bash with curl and jq. The asset goes in through --rawfile:
    // a photo in base64 soon exceeds what one command-line argument may hold (128 KiB on Linux).
    const script = `
set -euo pipefail
CURL="curl -sS --fail-with-body --cacert $CA --cert $CERT --key $KEY -H content-type:application/json"
PROJECT=$($CURL -d '{"name":"curl newsroom"}' "$URL/c2pamesh.registry.v1.RegistryService/CreateProject" | jq -r .projectId)
jq -n --rawfile asset <(base64 -w0 "$PHOTO") --arg project "$PROJECT" '{
    asset: $asset, format: "image/jpeg", projectId: $project,
    manifestJson: ({title: "photo.jpg", assertions: [{label: "c2pa.actions", data: {actions: [
      {action: "c2pa.created", digitalSourceType: "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"}]}}]} | tojson)
  }' \\
| $CURL --data-binary @- "$URL/c2pamesh.signing.v1.SigningService/Sign" > "$OUT.json"
jq -r .signedAsset "$OUT.json" | base64 -d > "$OUT"
jq -r '.assetSha256, .assetId, .activeManifestLabel' "$OUT.json"
`;
    const { stdout } = await run('bash', ['-c', script], {
      env: { ...process.env, CA: mesh.files.meshCa, CERT: mesh.files.adminCert, KEY: mesh.files.adminKey, URL: mesh.url, PHOTO: path.join(FIXTURES, 'no_manifest.jpg'), OUT: signedPath },
      maxBuffer: 64 * 1024 * 1024,
    });
    const [assetSha256, assetId, label] = stdout.trim().split('\n');
    const signed = new Uint8Array(await readFile(signedPath));
    expect(assetSha256).toBe(sha256(signed));
    expect(assetId).toMatch(/\S/);
    expect(label).toMatch(/^urn:c2pa:/);
    const verdict = await judge('image/jpeg', signed, mesh.files.c2paRoot);
    expect(verdict).toMatchObject({ state: 'Trusted', errors: [], title: 'photo.jpg' });
    expect(verdict.successes).toEqual(expect.arrayContaining(LTV));
  });

  it('signs with an API key from curl (no project_id: the key acts for its project), and refuses bad input as JSON errors', async () => {
    const registry = meshClient(RegistryService, mesh.url, admin());
    const { key } = await registry.createApiKey({ projectId, name: 'curl key', scopes: ['sign'] });
    const body = JSON.stringify({ asset: Buffer.from(media('sample1.png')).toString('base64'), format: 'image/png', manifestJson: manifest('api key') });
    const curl = async (payload: string) => {
      const bodyPath = path.join(scratch, 'body.json');
      await writeFile(bodyPath, payload);
      return run('curl', ['-sS', '--cacert', mesh.files.meshCa, '-H', `authorization: Bearer ${key}`, '-H', 'content-type: application/json', '--data-binary', `@${bodyPath}`, `${mesh.url}/c2pamesh.signing.v1.SigningService/Sign`], {
        maxBuffer: 64 * 1024 * 1024,
      });
    };
    const signed = JSON.parse((await curl(body)).stdout);
    const verdict = await judge('image/png', new Uint8Array(Buffer.from(signed.signedAsset, 'base64')), mesh.files.c2paRoot);
    expect(verdict.state).toBe('Trusted');
    const { asset } = await registry.getAsset({ assetId: signed.assetId });
    expect(asset?.projectId).toBe(projectId);

    const refused = JSON.parse((await curl(JSON.stringify({ asset: Buffer.from(media('no_manifest.jpg')).toString('base64'), format: 'image/png', manifestJson: manifest('x') }))).stdout);
    const { details, ...error } = refused;
    expect(error).toEqual({ code: 'invalid_argument', message: 'declared image/png but the bytes are a JPEG' });
    // The refusal's details, as a google.protobuf.Struct error detail (base64 protobuf in JSON).
    expect(details).toEqual([expect.objectContaining({ type: 'google.protobuf.Struct', value: expect.any(String) })]);
  });
});
