import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryService, SigningService, TransparencyLogService } from '@c2pa-mesh/proto';
import { parseCheckpointBody, parseSignedNote } from '@c2pa-mesh/transparency-log';
import { cleanUp, removeDir } from '../support/cleanup.js';
import { meshClient, type ClientCredentials } from '../support/mesh-clients.js';
import { dropScratchDatabase, FIXTURES, startMeshProcess, type MeshProcess } from '../support/start-mesh.js';
import { b64, tlogCheck } from '../support/tlog-check.js';

/**
 * The log survives a kill -9 of the mesh between two batches: the batches that answered are all
 * there after a restart, a batch still waiting when the process died left nothing half-written,
 * and the log goes on from where it was, consistent with what it had signed (checked by Go's
 * sumdb against the tiles).
 */

const jpeg = readFileSync(path.join(FIXTURES, 'no_manifest.jpg'));
const manifest = JSON.stringify({
  title: 'crash test',
  assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture' }] } }],
});

let first: MeshProcess | undefined;
let second: MeshProcess | undefined;
let dataDir: string | undefined;

const admin = (mesh: MeshProcess): ClientCredentials => ({ caPath: mesh.files.meshCa, certPath: mesh.files.adminCert, keyPath: mesh.files.adminKey });

beforeAll(async () => {
  // A long batch interval: a Sign still waiting in the sequencer's queue when the process dies.
  first = await startMeshProcess({ env: { MESH_LOG_BATCH_MS: '1500' } });
  dataDir = first.dataDir;
}, 120_000);

afterAll(async () => {
  await cleanUp({
    first: () => first?.stop({ keepDataDir: true }),
    second: () => second?.stop({ keepDataDir: true }),
    dataDir: () => removeDir(dataDir),
    // Both processes kept their data (the second reopened the first's): the scratch database too.
    database: () => (first?.databaseUrl && process.env.DATABASE_URL ? dropScratchDatabase(process.env.DATABASE_URL, first.databaseUrl) : undefined),
  });
});

describe('the transparency log across a kill -9', () => {
  it('keeps every batch that answered, loses no more than the one pending, and goes on consistently', async () => {
    const mesh = first!;
    const { projectId } = await meshClient(RegistryService, mesh.url, admin(mesh)).createProject({ name: `crash ${Date.now()}` });
    const sign = (m: MeshProcess) => meshClient(SigningService, m.url, admin(m)).sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest, projectId });
    // Two batches that answered.
    const a = await sign(mesh);
    const b = await Promise.all([sign(mesh), sign(mesh)]);
    const committed = parseCheckpointBody(parseSignedNote(b[1].logCheckpoint).body);
    expect(committed.size).toBeGreaterThanOrEqual(3);
    const logged = [a, ...b].map((r) => r.logIndex);
    expect(new Set(logged).size).toBe(3);

    // A third Sign gets its signature into the sequencer's queue; the process dies before that
    // batch is written (the interval is 1.5 s).
    const pending = sign(mesh).catch((error: unknown) => error);
    // The engine signs in well under the interval on an idle machine; the kill comes while the
    // signature waits for its batch (or, on a slow machine, before it reached the queue: either
    // way that Sign never answered, and nothing of it may be half-written).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    mesh.child.kill('SIGKILL');
    expect(await pending).toBeInstanceOf(Error);
    await mesh.stop({ keepDataDir: true });

    second = await startMeshProcess({ dataDir: mesh.dataDir, databaseUrl: mesh.databaseUrl, env: { MESH_LOG_BATCH_MS: '20' } });
    const log = meshClient(TransparencyLogService, second.url, admin(second));
    const restarted = await log.getCheckpoint({});
    // Exactly the batches that answered, or also the pending one if it was written just before
    // the kill: never a partial batch.
    expect(Number(restarted.treeSize)).toBeGreaterThanOrEqual(committed.size);
    expect(Number(restarted.treeSize)).toBeLessThanOrEqual(committed.size + 1);
    for (const index of logged) {
      const proof = await log.getInclusionProof({ leaf: { case: 'logIndex', value: index } });
      expect(Number(proof.treeSize)).toBe(Number(restarted.treeSize));
    }

    // The log goes on after the restart, and the tree extends the one signed before the kill.
    const c = await sign(second);
    expect(Number(c.logIndex)).toBe(Number(restarted.treeSize));
    const latest = await log.getCheckpoint({});
    const consistency = await log.getConsistencyProof({ firstSize: BigInt(committed.size) });
    const leaf = (await log.getInclusionProof({ leaf: { case: 'logIndex', value: c.logIndex } })).leafHash;
    await expect(
      tlogCheck({
        logUrl: `${second.pkiUrl}/log`,
        verifierKey: latest.logVerifierKey,
        checkpoint: latest.checkpoint,
        oldSize: committed.size,
        oldRoot: b64(committed.root),
        consistencyProof: consistency.consistencyProof.map(b64),
        index: Number(c.logIndex),
        leafHash: b64(leaf),
      }),
    ).resolves.toMatchObject({ consistent: true, included: true });
  }, 240_000);
});
