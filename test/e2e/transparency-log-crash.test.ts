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
 * The log survives a kill -9 of the mesh while Signs are under way: the batches that answered are
 * all there after a restart, a batch being written when the process died left nothing
 * half-written, and the log goes on from where it was, consistent with what it had signed
 * (checked by Go's sumdb against the tiles).
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
  first = await startMeshProcess();
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
  it('keeps every batch that answered, never half a batch, and goes on consistently', async () => {
    const mesh = first!;
    const { projectId } = await meshClient(RegistryService, mesh.url, admin(mesh)).createProject({ name: `crash ${Date.now()}` });
    const sign = (m: MeshProcess) => meshClient(SigningService, m.url, admin(m)).sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest, projectId });
    // Two batches that answered.
    const a = await sign(mesh);
    const b = await Promise.all([sign(mesh), sign(mesh)]);
    expect(new Set([a, ...b].map((r) => r.logIndex)).size).toBe(3);

    // Three more Signs at once; the process dies as soon as the first of them is settled, while
    // the others are signed, wait for their batch, are being written or are being answered.
    const pending = [sign(mesh), sign(mesh), sign(mesh)].map((call) => call.catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))));
    await Promise.race(pending);
    mesh.child.kill('SIGKILL');
    const late = await Promise.all(pending);
    await mesh.stop({ keepDataDir: true });
    // What answered was committed; what did not may or may not have been.
    const answered = [a, ...b, ...late.filter((r): r is typeof a => !(r instanceof Error))];
    const committed = answered.map((r) => parseCheckpointBody(parseSignedNote(r.logCheckpoint).body)).reduce((x, y) => (y.size > x.size ? y : x));
    expect(committed.size).toBeGreaterThanOrEqual(answered.length);
    const logged = answered.map((r) => r.logIndex);
    expect(new Set(logged).size).toBe(answered.length);

    second = await startMeshProcess({ dataDir: mesh.dataDir, databaseUrl: mesh.databaseUrl });
    const log = meshClient(TransparencyLogService, second.url, admin(second));
    const restarted = await log.getCheckpoint({});
    // The batches that answered, and perhaps one written just before the kill that had not yet
    // answered: never a partial batch, so the size is one the log signed a checkpoint of.
    expect(Number(restarted.treeSize)).toBeGreaterThanOrEqual(committed.size);
    expect(Number(restarted.treeSize)).toBeLessThanOrEqual(6);
    expect(parseCheckpointBody(parseSignedNote(restarted.checkpoint).body).size).toBe(Number(restarted.treeSize));
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
