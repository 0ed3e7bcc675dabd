import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { createEngine, type C2paEngine } from '@c2pa-mesh/engine';
import { RegistryService, SigningService, VerificationService, verificationV1 } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, closeServer, removeDir } from '../support/cleanup.js';
import { createForeignPki } from '../../services/verification/src/test-support/foreign-pki.js';
import { meshClient, type ClientCredentials } from '../support/mesh-clients.js';
import { FIXTURES, startMeshProcess, type MeshProcess } from '../support/start-mesh.js';

/**
 * Verification against the mesh as `npm start` runs it: curl with JSON (the README's command),
 * Connect and gRPC over mTLS, an API key with a size limit, VerifyStream, VerifyUrl through the
 * operator allowlist, a trust file changed while the process runs, hostile input; then the
 * four-process layout, where the verification process reaches the CA and the registry over mTLS.
 */

const run = promisify(execFile);
const { ValidationState } = verificationV1;
const TRAINED = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
const manifest = (title: string) =>
  JSON.stringify({ title, assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED }] } }] });
const media = (file: string) => new Uint8Array(readFileSync(path.join(FIXTURES, file)));
const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => ConnectError.from(e));

describe('verification on the mesh started as `npm start` does', () => {
  let mesh: MeshProcess;
  let scratch: string;
  let anchorsFile: string;
  let projectId: string;
  let server: Server;
  let origin: string;
  let engine: C2paEngine;
  const admin = (): ClientCredentials => ({ caPath: mesh.files.meshCa, certPath: mesh.files.adminCert, keyPath: mesh.files.adminKey });

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-e2e-verification-'));
    anchorsFile = path.join(scratch, 'trust-anchors.pem');
    await writeFile(anchorsFile, '');
    server = createServer((req, res) => {
      if (req.url === '/C.jpg') res.writeHead(200, { 'content-type': 'image/jpeg' }).end(media('C.jpg'));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    mesh = await startMeshProcess({
      env: { MESH_TRUST_ANCHORS_FILE: anchorsFile, MESH_VERIFY_URL_ALLOW_HOSTS: '127.0.0.1', MESH_VERIFY_URL_ALLOW_HTTP: '1' },
    });
    ({ projectId } = await meshClient(RegistryService, mesh.url, admin()).createProject({ name: 'e2e verification desk' }));
    engine = createEngine({ threads: 1 });
  });
  afterAll(() =>
    cleanUp({ mesh: () => mesh?.stop(), engine: () => engine?.close(), server: () => closeServer(server), scratch: () => removeDir(scratch) }),
  );

  it('verifies a JPEG from curl with JSON (asset in base64), as the README shows', async () => {
    const script = `
set -euo pipefail
jq -n --rawfile asset <(base64 -w0 "$PHOTO") '{asset: $asset}' \\
| curl -sS --fail-with-body --cacert "$CA" --cert "$CERT" --key "$KEY" -H content-type:application/json --data-binary @- \\
    "$URL/c2pamesh.verification.v1.VerificationService/Verify" \\
| jq -c '{validationState, signer, signedAt, certificateStatus, registered: (.registered // false), errors: [.errors[]?.code], format}'
`;
    const { stdout } = await run('bash', ['-c', script], {
      env: { ...process.env, CA: mesh.files.meshCa, CERT: mesh.files.adminCert, KEY: mesh.files.adminKey, URL: mesh.url, PHOTO: path.join(FIXTURES, 'C.jpg') },
    });
    expect(JSON.parse(stdout)).toEqual({
      validationState: 'VALIDATION_STATE_VALID',
      signer: 'C2PA Signer',
      signedAt: '2024-08-06T21:53:37.000Z',
      certificateStatus: 'NOT_ISSUED_BY_US',
      registered: false,
      errors: ['signingCredential.untrusted'],
      format: 'image/jpeg',
    });
  });

  it('verifies what the mesh signed as TRUSTED over gRPC and Connect, registered, with the live status; one changed byte is INVALID', async () => {
    const signing = meshClient(SigningService, mesh.url, admin());
    const signed = await signing.sign({ asset: media('sample1.png'), format: 'image/png', manifestJson: manifest('e2e verify'), projectId });
    for (const protocol of ['grpc', 'connect'] as const) {
      const res = await meshClient(VerificationService, mesh.url, admin(), protocol).verify({ asset: signed.signedAsset });
      expect(res).toMatchObject({ validationState: ValidationState.TRUSTED, registered: true, assetId: signed.assetId, certificateStatus: 'ACTIVE', title: 'e2e verify', format: 'image/png' });
    }
    const altered = signed.signedAsset.slice();
    altered[altered.length - 200] ^= 0x01;
    const res = await meshClient(VerificationService, mesh.url, admin(), 'grpc').verify({ asset: altered });
    expect(res.validationState).toBe(ValidationState.INVALID);
    expect(res.errors.map((e) => e.code)).toContain('assertion.dataHash.mismatch');
  });

  it('verifies a batch sent over the network, each item on its own', async () => {
    const items = [
      { name: 'C.jpg', asset: media('C.jpg') },
      { name: 'XCA.jpg', asset: media('XCA.jpg') },
      { name: 'unsigned.png', asset: media('sample1.png') },
      { name: 'C.jpg again', asset: media('C.jpg'), format: 'image/jpeg' },
    ];
    for (const protocol of ['grpc', 'connect'] as const) {
      const res = await meshClient(VerificationService, mesh.url, admin(), protocol).verifyBatch({ items });
      expect(res.totals).toMatchObject({ total: 4, valid: 2, invalid: 1, failed: 1, trusted: 0 });
      // sample1.png carries no manifest, but this mesh signed the same pixels above: it is answered
      // with that asset as a soft-binding match (no state), and counted with the failed items.
      expect(res.results.map((r) => (r.outcome.case === 'result' ? r.outcome.value.validationState : r.outcome.value?.code))).toEqual([
        ValidationState.VALID,
        ValidationState.INVALID,
        ValidationState.UNSPECIFIED,
        ValidationState.VALID,
      ]);
      const unsigned = res.results[2].outcome;
      expect(unsigned.case === 'result' && unsigned.value.softBindingMatches.length).toBeGreaterThan(0);
    }
  });

  it('streams a 4 MB asset over gRPC in chunks', async () => {
    const signing = meshClient(SigningService, mesh.url, admin());
    const signed = await signing.sign({ asset: media('sample1.m4a'), format: 'audio/mp4', manifestJson: manifest('e2e stream'), projectId });
    const asset = signed.signedAsset;
    async function* messages() {
      yield create(verificationV1.VerifyStreamRequestSchema, { payload: { case: 'options', value: { format: 'audio/mp4', totalSize: BigInt(asset.length) } } });
      for (let at = 0; at < asset.length; at += 256 * 1024) {
        yield create(verificationV1.VerifyStreamRequestSchema, { payload: { case: 'chunk', value: asset.subarray(at, at + 256 * 1024) } });
      }
    }
    const res = await meshClient(VerificationService, mesh.url, admin(), 'grpc').verifyStream(messages());
    expect(res).toMatchObject({ validationState: ValidationState.TRUSTED, registered: true, assetId: signed.assetId, format: 'audio/mp4' });
  });

  it('fetches through the operator allowlist, and still refuses other internal addresses', async () => {
    const verification = meshClient(VerificationService, mesh.url, admin());
    const res = await verification.verifyUrl({ url: `${origin}/C.jpg` });
    expect(res.result?.validationState).toBe(ValidationState.VALID);
    expect(res.fetchedBytes).toBe(BigInt(media('C.jpg').length));
    for (const url of ['https://10.1.2.3/C.jpg', 'https://169.254.169.254/latest/meta-data/', 'https://192.168.1.1/C.jpg', 'https://[::1]/C.jpg']) {
      const err = await failure(verification.verifyUrl({ url }));
      expect(err?.code, url).toBe(Code.InvalidArgument);
      expect(err?.rawMessage, url).toMatch(/only fetches from public addresses/);
    }
  });

  it('takes up a changed trust file without a restart', async () => {
    const partner = await createForeignPki('E2E Partner');
    const { signedAsset } = await engine.sign({ format: 'image/jpeg', asset: media('no_manifest.jpg'), manifestDefinition: manifest('partner photo'), signer: partner.claimSigner });
    const verification = meshClient(VerificationService, mesh.url, admin());
    expect((await verification.verify({ asset: signedAsset })).validationState).toBe(ValidationState.VALID);
    await writeFile(anchorsFile, partner.rootPem);
    // The file is looked at again at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await verification.verify({ asset: signedAsset })).validationState).toBe(ValidationState.TRUSTED);
  });

  it('holds an API key to its size limit and answers hostile input in words, staying up', async () => {
    const registry = meshClient(RegistryService, mesh.url, admin());
    const { key } = await registry.createApiKey({ projectId, name: 'small verifier', scopes: ['verify'], maxAssetBytes: 100_000n });
    const keyed = meshClient(VerificationService, mesh.url, { caPath: mesh.files.meshCa, apiKey: key });
    const big = await failure(keyed.verify({ asset: media('C.jpg') }));
    expect(big?.code).toBe(Code.ResourceExhausted);
    const garbage = media('C.jpg').slice(0, 60_000);
    for (let i = 2000; i < garbage.length; i += 997) garbage[i] ^= 0x5a;
    const hostile = await keyed.verify({ asset: garbage }).then(
      (res) => res.validationState,
      (e: unknown) => ConnectError.from(e).code,
    );
    // A damaged manifest reads INVALID; a damaged container is refused in words. Never internal.
    expect([ValidationState.INVALID, Code.InvalidArgument, Code.NotFound, Code.FailedPrecondition]).toContain(hostile);
    const unsigned = await failure(keyed.verify({ asset: media('sample1.webp') }));
    expect(unsigned?.code).toBe(Code.NotFound);
    expect(unsigned?.rawMessage).toMatch(/^no C2PA manifest/);
    // Still serving, and the history holds the key's verifications under its project.
    const history = await keyed.listVerifications({});
    expect(history.verifications.every((v) => v.projectId === projectId)).toBe(true);
    const all = await meshClient(VerificationService, mesh.url, admin()).listVerifications({ pageSize: 500 });
    // Everything this file verified above, by every RPC.
    expect(new Set(all.verifications.map((v) => v.source))).toEqual(new Set(['BYTES', 'BATCH', 'STREAM', 'URL']));
  });
});
