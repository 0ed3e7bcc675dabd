import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRelyingPartyListener, type RelyingPartyListener } from '@c2pa-mesh/server';
import { createTestDatabase, type TestDatabase } from '@c2pa-mesh/storage/testing';
import {
  checkInclusion,
  createCosigner,
  leafHash,
  openTileLog,
  openTransparencyLog,
  parseCheckpointBody,
  parseSignedNote,
  parseVerifierKey,
  transparencyLogSettingsFromEnv,
  verifyConsistency,
  verifyInclusion,
  witnessOnce,
  type AppendResult,
  type TransparencyLog,
} from '@c2pa-mesh/transparency-log';
import { cleanUp, removeDir } from '../../../test/support/cleanup.js';
import { b64, tlogCheck } from '../../../test/support/tlog-check.js';
import { transparencyLogRoutes } from './transparency-log-routes.js';

// @sigstore/verify's RFC 6962 audit-path check (the one sigstore clients run on Rekor entries),
// as an implementation independent of the mesh's; the package exports it only by file.
const require = createRequire(import.meta.url);
const { verifyMerkleInclusion } = require('@sigstore/verify/dist/tlog/merkle.js') as {
  verifyMerkleInclusion(entry: unknown, checkpoint: { logSize: bigint; logHash: Buffer }): void;
};

function sigstoreIncludes(entry: Uint8Array, result: { index: number; proof: Uint8Array[] }, size: number, root: Uint8Array): boolean {
  try {
    verifyMerkleInclusion(
      { canonicalizedBody: Buffer.from(entry), inclusionProof: { logIndex: String(result.index), hashes: result.proof.map((h) => Buffer.from(h)) } },
      { logSize: BigInt(size), logHash: Buffer.from(root) },
    );
    return true;
  } catch {
    return false;
  }
}

/** A note verifier key of the same name as the log's, for another Ed25519 key. */
async function openTransparencyLogKeyOnly(): Promise<string> {
  const database = await createTestDatabase();
  try {
    const log = await openTransparencyLog({ db: database.db, keyEncryptionKey: randomBytes(32), origin: 'test.example/log', witnesses: [] });
    await log.close();
    return log.verifierKey;
  } finally {
    await database.close();
  }
}

const pkcs8 = () => new Uint8Array(generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }));
const logger = pino({ level: 'silent' });

interface ServedLog {
  database: TestDatabase;
  log: TransparencyLog;
  listener: RelyingPartyListener;
  url: string;
}

async function serveLog(database: TestDatabase, kek: Uint8Array, witnesses: string[]): Promise<ServedLog> {
  const log = await openTransparencyLog({ db: database.db, keyEncryptionKey: kek, origin: 'test.example/log', witnesses: witnesses.map(parseVerifierKey) });
  const listener = await startRelyingPartyListener({ host: '127.0.0.1', port: 0, routes: transparencyLogRoutes(log), logger });
  return { database, log, listener, url: `${listener.url}/log` };
}

describe('transparency log', () => {
  const kek = randomBytes(32);
  const witnessKey = pkcs8();
  const witness = createCosigner('witness.test.example/w1', witnessKey);
  let served: ServedLog;
  let forked: ServedLog | undefined;
  let dir: string;
  const entries = Array.from({ length: 300 }, (_, i) => randomBytes(100 + (i % 50)));
  let results: AppendResult[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tlog-test-'));
    served = await serveLog(await createTestDatabase(), kek, [witness.verifierKey]);
    // Three rounds of concurrent appends: batched, across a full level-0 tile.
    results = [];
    for (const round of [entries.slice(0, 5), entries.slice(5, 260), entries.slice(260)]) {
      results.push(...(await Promise.all(round.map((entry) => served.log.append(entry)))));
    }
  }, 60_000);

  afterAll(async () => {
    await cleanUp({
      listener: () => served?.listener.close(0),
      log: () => served?.log.close(),
      db: () => served?.database.close(),
      forkedListener: () => forked?.listener.close(0),
      forkedLog: () => forked?.log.close(),
      forkedDb: () => forked?.database.close(),
      dir: () => removeDir(dir),
    });
  });

  it('gives every entry its own index, in batches, each with a proof @sigstore/verify accepts', async () => {
    expect(new Set(results.map((r) => r.index)).size).toBe(entries.length);
    expect(results.map((r) => r.index).sort((a, b) => a - b)).toEqual(entries.map((_, i) => i));
    // Fewer checkpoints than entries: appends shared batches.
    expect(new Set(results.map((r) => r.treeSize)).size).toBeLessThan(entries.length / 4);
    results.forEach((result, i) => {
      const checkpoint = parseCheckpointBody(parseSignedNote(result.checkpoint).body);
      expect(checkpoint.size).toBe(result.treeSize);
      expect(sigstoreIncludes(entries[i]!, result, checkpoint.size, checkpoint.root)).toBe(true);
      expect(verifyInclusion(result.index, checkpoint.size, leafHash(entries[i]!), result.proof, checkpoint.root)).toBe(true);
    });
    // A proof for another entry, or a changed hash, is refused by both.
    const checkpoint = parseCheckpointBody(parseSignedNote(results[7]!.checkpoint).body);
    expect(sigstoreIncludes(entries[8]!, results[7]!, checkpoint.size, checkpoint.root)).toBe(false);
    const bent = results[7]!.proof.map((h, i) => (i === 2 ? Buffer.from(h).fill(7) : h));
    expect(sigstoreIncludes(entries[7]!, { index: 7, proof: bent }, checkpoint.size, checkpoint.root)).toBe(false);
    expect(verifyInclusion(7, checkpoint.size, leafHash(entries[7]!), bent, checkpoint.root)).toBe(false);
  });

  it('serves tlog-tiles that Go\'s sumdb reads: the signed checkpoint, the tree, inclusion and consistency', async () => {
    const note = await (await fetch(`${served.url}/checkpoint`)).text();
    const latest = parseCheckpointBody(parseSignedNote(note).body);
    expect(latest.size).toBe(300);
    const early = parseCheckpointBody(parseSignedNote(results[3]!.checkpoint).body);
    const consistency = await served.log.consistencyProof(early.size, latest.size);
    expect(verifyConsistency(early.size, latest.size, consistency.proof, early.root, latest.root)).toBe(true);
    for (const i of [0, 255, 256, 299]) {
      const proof = await served.log.inclusionProof(i, latest.size);
      const verdict = await tlogCheck({
        logUrl: served.url,
        verifierKey: served.log.verifierKey,
        checkpoint: note,
        oldSize: early.size,
        oldRoot: b64(early.root),
        consistencyProof: consistency.proof.map(b64),
        index: i,
        leafHash: b64(leafHash(entries[i]!)),
        inclusionProof: proof.map(b64),
      });
      expect(verdict).toMatchObject({ origin: 'test.example/log', size: 300, consistent: true, included: true });
      expect(sigstoreIncludes(entries[i]!, { index: i, proof }, latest.size, latest.root)).toBe(true);
    }
    // Go refuses a consistency proof that does not hold, and a checkpoint signed by another key.
    await expect(
      tlogCheck({ logUrl: served.url, verifierKey: served.log.verifierKey, checkpoint: note, oldSize: early.size, oldRoot: b64(randomBytes(32)), consistencyProof: consistency.proof.map(b64) }),
    ).rejects.toThrow(/consistency/);
    const impostor = await openTransparencyLogKeyOnly();
    await expect(tlogCheck({ logUrl: served.url, verifierKey: impostor, checkpoint: note })).rejects.toThrow(/signature/);
    // Every size between is consistent with the latest, by the mesh's proof and Go's.
    for (const first of [1, 7, 256, 257]) {
      const { proof, firstRoot } = await served.log.consistencyProof(first, latest.size);
      expect(verifyConsistency(first, latest.size, proof, firstRoot, latest.root)).toBe(true);
      await tlogCheck({ logUrl: served.url, verifierKey: served.log.verifierKey, checkpoint: note, oldSize: first, oldRoot: b64(firstRoot), consistencyProof: proof.map(b64) });
    }
  }, 60_000);

  it('serves tiles and entry bundles in the C2SP paths, and refuses tiles that do not exist', async () => {
    const full = await fetch(`${served.url}/tile/0/000`);
    expect(full.status).toBe(200);
    expect((await full.arrayBuffer()).byteLength).toBe(256 * 32);
    const partial = await fetch(`${served.url}/tile/0/001.p/44`);
    expect((await partial.arrayBuffer()).byteLength).toBe(44 * 32);
    expect((await fetch(`${served.url}/tile/1/000.p/1`)).status).toBe(200);
    expect((await fetch(`${served.url}/tile/0/001.p/45`)).status).toBe(404);
    expect((await fetch(`${served.url}/tile/0/002`)).status).toBe(404);
    expect((await fetch(`${served.url}/tile/0/x000/001`)).status).toBe(404);
    expect((await fetch(`${served.url}/tile/0/1`)).status).toBe(404);
    const bundle = new Uint8Array(await (await fetch(`${served.url}/tile/entries/001.p/44`)).arrayBuffer());
    expect(bundle[0]! * 256 + bundle[1]!).toBe(entries[256]!.length);
    expect(Buffer.from(bundle.subarray(2, 2 + entries[256]!.length)).equals(entries[256]!)).toBe(true);
    // The client side finds an entry's index and proves it from tiles alone.
    const tiles = openTileLog(served.url, parseVerifierKey(served.log.verifierKey));
    const checkpoint = await tiles.checkpoint();
    expect((await checkInclusion(tiles, checkpoint, entries[290]!)).index).toBe(290);
    await expect(checkInclusion(tiles, checkpoint, randomBytes(40))).rejects.toThrow(/not in the log/);
  });

  it('is cosigned by a witness that checked consistency, and the witness detects a forked tree', async () => {
    const statePath = path.join(dir, 'witness.json');
    const options = { logUrl: served.url, logKey: parseVerifierKey(served.log.verifierKey), name: witness.name, privateKeyPkcs8: witnessKey, statePath };
    expect(await witnessOnce(options)).toMatchObject({ status: 'cosigned', size: 300, accepted: true });
    const note = await (await fetch(`${served.url}/checkpoint`)).text();
    expect(parseSignedNote(note).signatures.map((s) => s.name)).toEqual(['test.example/log', 'witness.test.example/w1']);
    expect(await served.log.isCosigned(299)).toBe(true);
    expect(await served.log.isCosigned(300)).toBe(false);
    await tlogCheck({ logUrl: served.url, verifierKey: served.log.verifierKey, checkpoint: note });

    // The log grows: the witness checks the new tree against the one it cosigned.
    await Promise.all([served.log.append(randomBytes(64)), served.log.append(randomBytes(64))]);
    expect(await witnessOnce(options)).toMatchObject({ status: 'cosigned', size: 302, previousSize: 300 });

    // A fork: the same log key signs a different tree (the first 100 entries, then others).
    const forkDatabase = await createTestDatabase();
    const state = await served.database.db.selectFrom('tlog_state').selectAll().executeTakeFirstOrThrow();
    await forkDatabase.db.insertInto('tlog_state').values({ ...state, tree_size: 0 }).execute();
    forked = await serveLog(forkDatabase, kek, [witness.verifierKey]);
    // Appends made together keep their order: the same first 100 entries, then others.
    await Promise.all([...entries.slice(0, 100).map((entry) => forked!.log.append(entry)), ...Array.from({ length: 250 }, () => forked!.log.append(randomBytes(80)))]);
    const forkedCheckpoint = await forked.log.latestCheckpoint();
    expect(forkedCheckpoint.treeSize).toBe(350);
    const outcome = await witnessOnce({ ...options, logUrl: forked.url });
    expect(outcome).toMatchObject({ status: 'fork', size: 350, previousSize: 302 });
    // Nothing was cosigned, and the witness still holds the tree it verified.
    expect(await forked.log.isCosigned(0)).toBe(false);
    expect(await witnessOnce(options)).toMatchObject({ status: 'cosigned', size: 302, previousSize: 302 });
    // A cosignature from a key the log does not trust is refused.
    const stranger = createCosigner('stranger.example/w', pkcs8());
    const body = parseSignedNote(note).body;
    const response = await fetch(`${served.url}/cosignature`, { method: 'POST', body: `${body}\n— stranger.example/w ${Buffer.concat([stranger.cosign(body).keyId, stranger.cosign(body).signature]).toString('base64')}\n` });
    expect(response.status).toBe(409);
  }, 60_000);
});

describe('the transparency log\'s sequencer', () => {
  const kek = randomBytes(32);
  let database: TestDatabase;
  const logs: TransparencyLog[] = [];
  const open = async () => {
    const log = await openTransparencyLog({ db: database.db, keyEncryptionKey: kek, ...transparencyLogSettingsFromEnv({ MESH_LOG_BATCH_MS: '10000' }) });
    logs.push(log);
    return log;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  }, 60_000);
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    await cleanUp({ logs: () => Promise.all(logs.map((log) => log.close())), db: () => database?.close() });
  });

  it('writes a lone append at once: no timer has to fire (a setting left from the batch interval changes nothing)', async () => {
    const log = await open();
    // Timers are frozen: an append that waited for one would never be written, and the test
    // would run into its time limit.
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] });
    const entry = randomBytes(300);
    const first = await log.append(entry);
    const second = await log.append(randomBytes(300));
    vi.useRealTimers();
    expect([first.index, second.index]).toEqual([first.treeSize - 1, second.treeSize - 1]);
    expect(second.index).toBe(first.index + 1);
    const checkpoint = parseCheckpointBody(parseSignedNote(second.checkpoint).body);
    expect(verifyInclusion(first.index, checkpoint.size, leafHash(entry), await log.inclusionProof(first.index, checkpoint.size), checkpoint.root)).toBe(true);
  }, 30_000);

  it('keeps one tree when two sequencers append to the same database at once', async () => {
    const [a, b] = [logs[0] ?? (await open()), await open()];
    expect(b.verifierKey).toBe(a.verifierKey);
    const start = (await a.latestCheckpoint()).treeSize;
    const entries = Array.from({ length: 120 }, (_, i) => randomBytes(64 + i));
    // Rounds of appends to both, so that each sequencer's next batch follows the other's.
    const results: AppendResult[] = [];
    for (let round = 0; round < 4; round++) {
      const slice = entries.slice(round * 30, round * 30 + 30);
      results.push(...(await Promise.all(slice.map((entry, i) => (i % 2 === 0 ? a : b).append(entry)))));
    }
    expect(results.map((r) => r.index).sort((x, y) => x - y)).toEqual(entries.map((_, i) => start + i));
    const latest = await b.latestCheckpoint();
    expect(latest.treeSize).toBe(start + entries.length);
    results.forEach((result, i) => {
      const checkpoint = parseCheckpointBody(parseSignedNote(result.checkpoint).body);
      expect(verifyInclusion(result.index, checkpoint.size, leafHash(entries[i]!), result.proof, checkpoint.root)).toBe(true);
      expect(leafHash(entries[i]!)).toEqual(result.leafHash);
    });
    // Every checkpoint either signed is consistent with the latest, and the stored tree is whole.
    for (const size of new Set(results.map((r) => r.treeSize))) {
      const { proof, firstRoot, secondRoot } = await a.consistencyProof(size, latest.treeSize);
      expect(secondRoot).toEqual(latest.rootHash);
      expect(firstRoot).toEqual(parseCheckpointBody(parseSignedNote((await a.checkpoint(size)).note).body).root);
      expect(verifyConsistency(size, latest.treeSize, proof, firstRoot, latest.rootHash)).toBe(true);
    }
    for (const [i, entry] of entries.entries()) {
      const proof = await b.inclusionProof(results[i]!.index, latest.treeSize);
      expect(verifyInclusion(results[i]!.index, latest.treeSize, leafHash(entry), proof, latest.rootHash)).toBe(true);
    }
  }, 60_000);
});
