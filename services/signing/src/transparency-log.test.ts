import { createRequire } from 'node:module';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { JPEG, PNG } from '@trustnxt/c2pa-ts/asset';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coseInManifestStore } from '@c2pa-mesh/engine';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { TransparencyLogService, VerificationService, signingV1 } from '@c2pa-mesh/proto';
import { startRelyingPartyListener, type RelyingPartyListener } from '@c2pa-mesh/server';
import { leafHash, parseCheckpointBody, parseSignedNote, parseVerifierKey, verifyNoteSignature } from '@c2pa-mesh/transparency-log';
import { cleanUp } from '../../../test/support/cleanup.js';
import { b64, tlogCheck } from '../../../test/support/tlog-check.js';
import { createProject, generatorManifest, projectKey, readMedia, registryClient, signingClient } from './test-support/signing-test-kit.js';

/**
 * Every claim signature the mesh makes is a leaf of its transparency log: Sign and SignStream
 * answer with its index, audit path and checkpoint; the registry keeps the index; Verify finds
 * the signature in the log. The leaf is compared with the `c2pa.signature` box as c2pa-ts reads
 * the file, the audit paths are checked by @sigstore/verify, the tiles and consistency by Go.
 */

const require = createRequire(import.meta.url);
const { verifyMerkleInclusion } = require('@sigstore/verify/dist/tlog/merkle.js') as {
  verifyMerkleInclusion(entry: unknown, checkpoint: { logSize: bigint; logHash: Buffer }): void;
};

let mesh: TestMesh;
let projectId: string;
let relyingParty: RelyingPartyListener;

beforeAll(async () => {
  mesh = await createTestMesh();
  await mesh.engine!.warmup();
  projectId = await createProject(mesh, 'Logged');
  relyingParty = await startRelyingPartyListener({ host: '127.0.0.1', port: 0, routes: mesh.relyingPartyRoutes, logger: pino({ level: 'silent' }) });
}, 60_000);
afterAll(async () => {
  await cleanUp({ listener: () => relyingParty?.close(0), mesh: () => mesh?.close() });
});

const logClient = (identity = ADMIN_IDENTITY) => createClient(TransparencyLogService, mesh.transport(identity));

/** The active manifest's COSE_Sign1 as c2pa-ts finds it in the file's container. */
function claimSignatureInFile(signed: Uint8Array, label: string): Uint8Array {
  const bytes = new Uint8Array(signed);
  const asset = JPEG.canRead(bytes) ? new JPEG(bytes) : new PNG(bytes);
  const cose = coseInManifestStore(asset.getManifestJUMBF()!, label);
  expect(cose).toBeDefined();
  return cose!;
}

function sigstoreAccepts(entry: Uint8Array, index: bigint, proof: Uint8Array[], checkpointNote: string): boolean {
  const checkpoint = parseCheckpointBody(parseSignedNote(checkpointNote).body);
  try {
    verifyMerkleInclusion(
      { canonicalizedBody: Buffer.from(entry), inclusionProof: { logIndex: String(index), hashes: proof.map((h) => Buffer.from(h)) } },
      { logSize: BigInt(checkpoint.size), logHash: Buffer.from(checkpoint.root) },
    );
    return true;
  } catch {
    return false;
  }
}

describe('the transparency log in Sign, SignStream, the registry and Verify', () => {
  it('logs each claim signature, exactly as stored in the c2pa.signature box, with a proof @sigstore/verify accepts', async () => {
    const client = signingClient(mesh);
    const jpeg = readMedia('no_manifest.jpg');
    const png = readMedia('sample1.png');
    const [first, second] = await Promise.all([
      client.sign({ asset: jpeg, format: 'image/jpeg', manifestJson: generatorManifest('logged JPEG'), projectId }),
      client.sign({ asset: png, format: 'image/png', manifestJson: generatorManifest('logged PNG'), projectId }),
    ]);
    async function* stream() {
      yield create(signingV1.SignStreamRequestSchema, {
        payload: { case: 'options', value: create(signingV1.SignStreamOptionsSchema, { format: 'image/jpeg', manifestJson: generatorManifest('streamed'), projectId }) },
      });
      yield create(signingV1.SignStreamRequestSchema, { payload: { case: 'chunk', value: jpeg } });
    }
    const chunks: Uint8Array[] = [];
    let streamed: signingV1.SignStreamResult | undefined;
    for await (const message of client.signStream(stream())) {
      if (message.payload.case === 'chunk') chunks.push(message.payload.value);
      else if (message.payload.case === 'result') streamed = message.payload.value;
    }
    const streamedAsset = Buffer.concat(chunks);

    const { checkpoint: latest, logVerifierKey } = await logClient().getCheckpoint({});
    const logKey = parseVerifierKey(logVerifierKey);
    const results = [
      { asset: first.signedAsset, label: first.activeManifestLabel, ...first },
      { asset: second.signedAsset, label: second.activeManifestLabel, ...second },
      { asset: streamedAsset, label: streamed!.activeManifestLabel, ...streamed! },
    ];
    expect(new Set(results.map((r) => r.logIndex)).size).toBe(3);
    for (const result of results) {
      const leaf = claimSignatureInFile(result.asset, result.label);
      expect(verifyNoteSignature(parseSignedNote(result.logCheckpoint), logKey)).toBe(true);
      expect(sigstoreAccepts(leaf, result.logIndex, result.logInclusionProof, result.logCheckpoint)).toBe(true);
      // The same proof does not hold for a signature one byte off.
      const bent = leaf.slice();
      bent[bent.length - 1]! ^= 1;
      expect(sigstoreAccepts(bent, result.logIndex, result.logInclusionProof, result.logCheckpoint)).toBe(false);

      // The registry keeps the index; Verify finds the signature in the log.
      const { asset } = await registryClient(mesh).getAsset({ assetId: result.assetId });
      expect(asset?.logIndex).toBe(result.logIndex);
      const verified = await createClient(VerificationService, mesh.transport(ADMIN_IDENTITY)).verify({ asset: result.asset });
      expect(verified).toMatchObject({ inTransparencyLog: true, logIndex: result.logIndex });
      expect(sigstoreAccepts(leaf, verified.logIndex, verified.logInclusionProof, verified.logCheckpoint)).toBe(true);

      // Go's sumdb: the checkpoint, the tiles, the inclusion proof and the consistency of the
      // Sign response's checkpoint with the latest one (the RPC's consistency proof too).
      const signedAt = parseCheckpointBody(parseSignedNote(result.logCheckpoint).body);
      const consistency = await logClient().getConsistencyProof({ firstSize: BigInt(signedAt.size) });
      expect(Buffer.from(consistency.firstRootHash).equals(signedAt.root)).toBe(true);
      await expect(
        tlogCheck({
          logUrl: `${relyingParty.url}/log`,
          verifierKey: logVerifierKey,
          checkpoint: latest,
          oldSize: signedAt.size,
          oldRoot: b64(signedAt.root),
          consistencyProof: consistency.consistencyProof.map(b64),
          index: Number(result.logIndex),
          leafHash: b64(leafHash(leaf)),
          inclusionProof: (await logClient().getInclusionProof({ leaf: { case: 'logIndex', value: result.logIndex } })).inclusionProof.map(b64),
        }),
      ).resolves.toMatchObject({ included: true });
    }
  }, 120_000);

  it('reports a file signed elsewhere as not in the log', async () => {
    const verified = await createClient(VerificationService, mesh.transport(ADMIN_IDENTITY)).verify({ asset: readMedia('C.jpg') });
    expect(verified.inTransparencyLog).toBe(false);
    expect(verified.logInclusionProof).toEqual([]);
  });

  it('lets only the mesh append, and refuses bad sizes with clear errors', async () => {
    const outsider = projectKey(projectId, { scopes: ['sign', 'verify', 'registry.read'] });
    await expect(logClient(outsider).appendEntry({ entry: new Uint8Array(10) })).rejects.toMatchObject({ code: Code.PermissionDenied });
    const { treeSize } = await logClient(outsider).getCheckpoint({});
    const beyond = await logClient(outsider).getConsistencyProof({ firstSize: 1n, secondSize: treeSize + 5n }).catch((e: unknown) => ConnectError.from(e));
    expect(beyond).toMatchObject({ code: Code.FailedPrecondition });
    await expect(logClient(outsider).getConsistencyProof({ firstSize: treeSize + 1n, secondSize: treeSize })).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(logClient(outsider).getInclusionProof({ leaf: { case: 'leafHash', value: new Uint8Array(32) } })).rejects.toMatchObject({ code: Code.NotFound });
    await expect(logClient(outsider).getInclusionProof({ leaf: { case: 'leafHash', value: new Uint8Array(3) } })).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(logClient(outsider).getInclusionProof({ leaf: { case: 'logIndex', value: treeSize } })).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(logClient(outsider).getInclusionProof({})).rejects.toMatchObject({ code: Code.InvalidArgument });
  });
});
