import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { completedNodes, consistencyProof, frontierNodes, inclusionProof, leafHash, nodeHash, rootHash, sha256, verifyConsistency, verifyInclusion, type NodeGetter } from './merkle.js';
import { encodeTileIndex, parseTilePath, tileNodeGetter, tilePath, tileWidth } from './tiles.js';

/** RFC 6962 §2.1 MTH, word for word: the reference the stored-node algorithms are held to. */
function mth(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leafHash(leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** Builds the stored nodes of a tree the way the sequencer does: batch after batch. */
function storedTree(entries: readonly Uint8Array[], batches: number[]): NodeGetter {
  const nodes = new Map<string, Uint8Array>();
  const get: NodeGetter = (level, index) => {
    const hash = nodes.get(`${level}/${index}`);
    if (hash === undefined) throw new Error(`no node ${level}/${index}`);
    return hash;
  };
  let size = 0;
  for (const count of batches) {
    for (const node of completedNodes(size, entries.slice(size, size + count).map(leafHash), get)) nodes.set(`${node.level}/${node.index}`, node.hash);
    size += count;
  }
  return get;
}

describe('RFC 6962 over stored subtree hashes', () => {
  const entries = Array.from({ length: 70 }, () => randomBytes(20));
  const get = storedTree(entries, [1, 2, 3, 5, 8, 13, 21, 17]);

  it('has the root of RFC 6962 MTH for every size, whatever the batches', () => {
    for (let n = 0; n <= entries.length; n++) expect(Buffer.from(rootHash(n, get))).toEqual(Buffer.from(mth(entries.slice(0, n))));
  });

  it('appends a batch from the old tree\'s frontier alone: its new nodes, root and audit paths', () => {
    for (let size = 0; size < 40; size++) {
      const frontier = new Map(frontierNodes(size).map(([level, index]) => [`${level}/${index}`, get(level, index)]));
      // The frontier is the tree: its subtrees, left to right, cover [0, size) exactly.
      expect(frontierNodes(size).reduce((covered, [level, index]) => (index * 2 ** level === covered ? covered + 2 ** level : NaN), 0)).toBe(size);
      for (const count of [1, 2, 7, 30]) {
        const hashes = entries.slice(size, size + count).map(leafHash);
        const old: NodeGetter = (level, index) => {
          const hash = frontier.get(`${level}/${index}`);
          if (hash === undefined) throw new Error(`read ${level}/${index}, not in the frontier of ${size}`);
          return hash;
        };
        const added = completedNodes(size, hashes, old);
        const fresh = new Map(added.map((n) => [`${n.level}/${n.index}`, n.hash]));
        const batchGet: NodeGetter = (level, index) => fresh.get(`${level}/${index}`) ?? old(level, index);
        const ranges = new Map<string, Uint8Array>();
        const newSize = size + count;
        expect(Buffer.from(rootHash(newSize, batchGet, ranges))).toEqual(Buffer.from(mth(entries.slice(0, newSize))));
        for (let i = size; i < newSize; i++) {
          expect(inclusionProof(i, newSize, batchGet, ranges).map((h) => Buffer.from(h))).toEqual(inclusionProof(i, newSize, get).map((h) => Buffer.from(h)));
        }
      }
    }
  });

  it('proves inclusion and consistency for every pair, and refuses what does not hold', () => {
    for (let n = 1; n <= entries.length; n += 3) {
      const root = mth(entries.slice(0, n));
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(i, n, get);
        expect(verifyInclusion(i, n, leafHash(entries[i]!), proof, root)).toBe(true);
        expect(verifyInclusion(i, n, leafHash(entries[(i + 1) % entries.length]!), proof, root)).toBe(false);
        if (proof.length > 0) expect(verifyInclusion(i, n, leafHash(entries[i]!), proof.slice(1), root)).toBe(false);
      }
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(m, n, get);
        const oldRoot = mth(entries.slice(0, m));
        expect(verifyConsistency(m, n, proof, oldRoot, root)).toBe(true);
        if (m < n) expect(verifyConsistency(m, n, proof, randomBytes(32), root)).toBe(false);
        if (m < n) expect(verifyConsistency(m, n, proof, oldRoot, randomBytes(32))).toBe(false);
      }
    }
  });
});

describe('tlog-tiles', () => {
  it('encodes tile paths as C2SP does, and parses only canonical ones', () => {
    expect(encodeTileIndex(1234067)).toBe('x001/x234/067');
    expect(encodeTileIndex(0)).toBe('000');
    expect(tilePath({ level: 2, index: 1234067, width: 17 })).toBe('tile/2/x001/x234/067.p/17');
    expect(tilePath({ level: 'entries', index: 5, width: 256 })).toBe('tile/entries/005');
    expect(parseTilePath('0/x001/x234/067.p/17')).toEqual({ level: 0, index: 1234067, width: 17 });
    expect(parseTilePath('entries/000')).toEqual({ level: 'entries', index: 0, width: 256 });
    for (const bad of ['0/1', '0/x000/001', '0/001.p/256', '0/001.p/0', '64/000', '01/000', '0/001/', 'x/000', '0/000.p/']) expect(parseTilePath(bad)).toBeUndefined();
    // A tree of 70,000: 273 full level-0 tiles and one of 112, level 1 full + 17, level 2 of 1.
    expect(tileWidth(70000, 0, 273)).toBe(112);
    expect(tileWidth(70000, 1, 0)).toBe(256);
    expect(tileWidth(70000, 1, 1)).toBe(17);
    expect(tileWidth(70000, 2, 0)).toBe(1);
    expect(tileWidth(70000, 2, 1)).toBe(0);
  });

  it('reads every node of a tree from its tiles', () => {
    const entries = Array.from({ length: 600 }, () => randomBytes(8));
    const get = storedTree(entries, [600]);
    const tiles = (level: number, index: number) =>
      Buffer.concat(Array.from({ length: tileWidth(600, level, index) }, (_, i) => get(level * 8, index * 256 + i)));
    const fromTiles = tileNodeGetter(tiles);
    expect(Buffer.from(rootHash(600, fromTiles))).toEqual(Buffer.from(mth(entries)));
    expect(inclusionProof(300, 600, fromTiles).map((h) => Buffer.from(h))).toEqual(inclusionProof(300, 600, get).map((h) => Buffer.from(h)));
  });
});
