import { createHash } from 'node:crypto';

/**
 * RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification. Written here because no
 * maintained npm package computes and checks both inclusion and consistency proofs of this tree
 * shape over stored subtree hashes (the tests check these against independent implementations).
 *
 * A tree is read through a `NodeGetter`: the hash of a *complete* subtree, `level` levels high
 * (level 0 = leaf hashes), the `index`-th of that level, i.e. MTH(D[index·2^level : (index+1)·2^level]).
 * Sizes and indices are plain numbers (exact up to 2^53 entries).
 */
export type NodeGetter = (level: number, index: number) => Uint8Array;

export const HASH_SIZE = 32;

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** RFC 6962 leaf hash: SHA-256(0x00 || entry). */
export function leafHash(entry: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, entry);
}

/** RFC 6962 interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE_PREFIX, left, right);
}

/** The empty tree's root: SHA-256 of nothing. */
export const EMPTY_ROOT = sha256();

/** Largest power of two strictly smaller than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

const isOdd = (n: number) => n % 2 === 1;
const half = (n: number) => Math.floor(n / 2);

/**
 * MTH(D[start:end]) as RFC 6962 recurses: every left part is a complete subtree, read as one node;
 * the right edge is split again.
 */
export function rangeHash(start: number, end: number, get: NodeGetter, ranges?: RangeCache): Uint8Array {
  const n = end - start;
  if (n <= 0) return EMPTY_ROOT;
  if (isPowerOfTwo(n) && start % n === 0) {
    const level = Math.round(Math.log2(n));
    return get(level, start / n);
  }
  const key = `${start}-${end}`;
  const cached = ranges?.get(key);
  if (cached !== undefined) return cached;
  const k = splitPoint(n);
  const hash = nodeHash(rangeHash(start, start + k, get, ranges), rangeHash(start + k, end, get, ranges));
  ranges?.set(key, hash);
  return hash;
}

/**
 * Hashes of incomplete ranges already computed for one tree: the audit paths of neighbouring
 * leaves share their right edge, so the proofs of a batch hash each such range once.
 */
export type RangeCache = Map<string, Uint8Array>;

/** The root of the tree of `size` leaves. */
export function rootHash(size: number, get: NodeGetter, ranges?: RangeCache): Uint8Array {
  return rangeHash(0, size, get, ranges);
}

/** RFC 6962 §2.1.1 PATH(index, D[0:size]): the audit path, leaf side first. */
export function inclusionProof(index: number, size: number, get: NodeGetter, ranges?: RangeCache): Uint8Array[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  const path = (m: number, start: number, end: number): Uint8Array[] => {
    const n = end - start;
    if (n === 1) return [];
    const k = splitPoint(n);
    return m < k
      ? [...path(m, start, start + k), rangeHash(start + k, end, get, ranges)]
      : [...path(m - k, start + k, end), rangeHash(start, start + k, get, ranges)];
  };
  return path(index, 0, size);
}

/**
 * The complete subtrees a tree of `size` is made of, largest (leftmost) first: one per bit set in
 * `size`. Appending to the tree reads no other node of it (the left siblings of the new nodes, and
 * the old part of every new audit path and of the new root, are these).
 */
export function frontierNodes(size: number): Array<[number, number]> {
  const nodes: Array<[number, number]> = [];
  for (let level = Math.floor(Math.log2(Math.max(size, 1))) + 1; level >= 0; level--) {
    const width = 2 ** level;
    if (Math.floor(size / width) % 2 === 1) nodes.push([level, Math.floor(size / width) - 1]);
  }
  return nodes;
}

/** RFC 6962 §2.1.2 PROOF(first, D[0:second]): the consistency proof between two tree sizes. */
export function consistencyProof(first: number, second: number, get: NodeGetter): Uint8Array[] {
  if (!(first >= 0 && first <= second)) throw new RangeError(`no consistency proof from ${first} to ${second}`);
  if (first === 0 || first === second) return [];
  const subproof = (m: number, start: number, end: number, complete: boolean): Uint8Array[] => {
    const n = end - start;
    if (m === n) return complete ? [] : [rangeHash(start, end, get)];
    const k = splitPoint(n);
    return m <= k
      ? [...subproof(m, start, start + k, complete), rangeHash(start + k, end, get)]
      : [...subproof(m - k, start + k, end, false), rangeHash(start, start + k, get)];
  };
  return subproof(first, 0, second, true);
}

/** Node keys `level/index` a computation reads, found by running it once with placeholder hashes. */
export function nodesRead(compute: (get: NodeGetter) => unknown): Array<[number, number]> {
  const seen = new Map<string, [number, number]>();
  const placeholder = new Uint8Array(HASH_SIZE);
  compute((level, index) => {
    seen.set(`${level}/${index}`, [level, index]);
    return placeholder;
  });
  return [...seen.values()];
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** RFC 9162 §2.1.3.2: does `proof` show `leaf` at `index` in the tree of `size` with `root`? */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!(index >= 0 && index < size)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (p.length !== HASH_SIZE || sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(r, root);
}

/** RFC 9162 §2.1.4.2: is the tree (`second`, `secondRoot`) an append-only extension of (`first`, `firstRoot`)? */
export function verifyConsistency(first: number, second: number, proof: readonly Uint8Array[], firstRoot: Uint8Array, secondRoot: Uint8Array): boolean {
  if (!(first >= 0 && first <= second)) return false;
  if (first === second) return proof.length === 0 && equalBytes(firstRoot, secondRoot);
  if (first === 0) return proof.length === 0;
  if (proof.some((p) => p.length !== HASH_SIZE)) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(fr, firstRoot) && equalBytes(sr, secondRoot);
}

/**
 * The complete nodes above a run of new leaf hashes: appending leaves `[size, size+count)` to a
 * tree of `size` completes, at each level, the nodes whose last child is new. `get` must answer
 * for the complete nodes of the old tree and the new leaves.
 */
export function completedNodes(size: number, newLeaves: readonly Uint8Array[], getOld: NodeGetter): Array<{ level: number; index: number; hash: Uint8Array }> {
  const fresh = new Map<string, Uint8Array>();
  const get: NodeGetter = (level, index) => fresh.get(`${level}/${index}`) ?? getOld(level, index);
  const out: Array<{ level: number; index: number; hash: Uint8Array }> = [];
  newLeaves.forEach((hash, i) => {
    fresh.set(`0/${size + i}`, hash);
    out.push({ level: 0, index: size + i, hash });
  });
  const newSize = size + newLeaves.length;
  // At level L a tree of s leaves has floor(s / 2^L) complete nodes; the new ones are those past the old count.
  for (let level = 1, width = 2; width <= newSize; level++, width *= 2) {
    for (let index = Math.floor(size / width); index < Math.floor(newSize / width); index++) {
      const hash = nodeHash(get(level - 1, 2 * index), get(level - 1, 2 * index + 1));
      fresh.set(`${level}/${index}`, hash);
      out.push({ level, index, hash });
    }
  }
  return out;
}
