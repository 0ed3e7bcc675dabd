import { readFile, rename, writeFile } from 'node:fs/promises';
import { consistencyProof, equalBytes, inclusionProof, leafHash, nodesRead, rootHash, verifyConsistency, verifyInclusion, type NodeGetter } from './merkle.js';
import {
  checkpointBody,
  formatSignedNote,
  parseCheckpointBody,
  parseSignedNote,
  verifyNoteSignature,
  type Checkpoint,
  type NoteSignature,
  type SignedNote,
  type VerifierKey,
} from './note.js';
import { TILE_WIDTH, nodesAtTileLevel, tileNodeGetter, tilePath, tilesNeeded, type TileRef } from './tiles.js';

/**
 * A reader of a tlog-tiles log over HTTP: checkpoints checked against the log's key, proofs
 * computed from tiles (nothing the log says about a proof is taken on trust). Used by the witness
 * and by `c2pa-mesh log verify`.
 */

const MAX_CHECKPOINT_BYTES = 64 * 1024;
const MAX_TILE_BYTES = TILE_WIDTH * 32;
const FETCH_TIMEOUT_MS = 15_000;

export class LogVerificationError extends Error {
  constructor(
    message: string,
    readonly kind: 'fork' | 'signature' | 'inclusion' | 'fetch',
  ) {
    super(message);
  }
}

async function fetchBytes(url: string, limit: number): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
  } catch (error) {
    throw new LogVerificationError(`could not fetch ${url}: ${(error as Error).message}`, 'fetch');
  }
  if (!response.ok) throw new LogVerificationError(`${url} answered ${response.status}`, 'fetch');
  const body = new Uint8Array(await response.arrayBuffer());
  if (body.length > limit) throw new LogVerificationError(`${url} sent more than ${limit} bytes`, 'fetch');
  return body;
}

export interface VerifiedCheckpoint extends Checkpoint {
  note: SignedNote;
  text: string;
}

export interface TileLog {
  readonly url: string;
  checkpoint(): Promise<VerifiedCheckpoint>;
  /** Runs a computation over the complete nodes of the tree of `size`, read from its tiles. */
  withTree<T>(size: number, compute: (get: NodeGetter) => T): Promise<T>;
  /** The index of a leaf hash in the tree of `size`, found in the level-0 tiles; undefined when absent. */
  findLeaf(size: number, hash: Uint8Array): Promise<number | undefined>;
}

/** `url` is the log's prefix, e.g. `http://127.0.0.1:8080/log`. */
export function openTileLog(url: string, logKey: VerifierKey): TileLog {
  const base = url.replace(/\/+$/, '');
  const cache = new Map<string, Uint8Array>();
  const tile = async (ref: TileRef) => {
    const path = tilePath(ref);
    let bytes = cache.get(path);
    if (bytes === undefined) {
      bytes = await fetchBytes(`${base}/${path}`, MAX_TILE_BYTES);
      if (bytes.length !== ref.width * 32) throw new LogVerificationError(`tile ${path} has ${bytes.length} bytes, not ${ref.width * 32}`, 'fetch');
      cache.set(path, bytes);
    }
    return bytes;
  };
  const withTree = async <T>(size: number, compute: (get: NodeGetter) => T): Promise<T> => {
    const refs = tilesNeeded(nodesRead(compute), size);
    const loaded = new Map<string, Uint8Array>();
    await Promise.all(refs.map(async (ref) => loaded.set(`${ref.level}/${ref.index}`, await tile(ref))));
    return compute(
      tileNodeGetter((level, index) => {
        const bytes = loaded.get(`${level}/${index}`);
        if (bytes === undefined) throw new Error(`tile ${level}/${index} was not loaded`);
        return bytes;
      }),
    );
  };
  return {
    url: base,
    async checkpoint() {
      const text = new TextDecoder('utf-8', { fatal: true }).decode(await fetchBytes(`${base}/checkpoint`, MAX_CHECKPOINT_BYTES));
      let note: SignedNote;
      let checkpoint: Checkpoint;
      try {
        note = parseSignedNote(text);
        checkpoint = parseCheckpointBody(note.body);
      } catch (error) {
        throw new LogVerificationError(`the log's checkpoint is malformed: ${(error as Error).message}`, 'signature');
      }
      if (checkpoint.origin !== logKey.name) throw new LogVerificationError(`the checkpoint is of ${checkpoint.origin}, not ${logKey.name}`, 'signature');
      if (!verifyNoteSignature(note, logKey)) throw new LogVerificationError('the checkpoint is not signed by the log key', 'signature');
      return { ...checkpoint, note, text };
    },
    withTree,
    async findLeaf(size, hash) {
      const tiles = Math.ceil(size / TILE_WIDTH);
      for (let index = 0; index < tiles; index++) {
        const width = Math.min(TILE_WIDTH, nodesAtTileLevel(size, 0) - index * TILE_WIDTH);
        const bytes = await tile({ level: 0, index, width });
        for (let i = 0; i < width; i++) if (equalBytes(bytes.subarray(i * 32, i * 32 + 32), hash)) return index * TILE_WIDTH + i;
      }
      return undefined;
    },
  };
}

/** Checks from tiles that `next` extends `previous`; throws a `fork` error when it does not. */
export async function checkConsistency(log: TileLog, previous: Checkpoint, next: Checkpoint): Promise<void> {
  if (next.size < previous.size) throw new LogVerificationError(`the log shrank from ${previous.size} to ${next.size} entries`, 'fork');
  if (next.size === previous.size) {
    if (!equalBytes(next.root, previous.root)) throw new LogVerificationError(`two different trees of size ${next.size}: the log forked`, 'fork');
    return;
  }
  const { proof, root } = await log.withTree(next.size, (get) => ({ proof: consistencyProof(previous.size, next.size, get), root: rootHash(next.size, get) }));
  if (!equalBytes(root, next.root)) throw new LogVerificationError(`the tiles of tree ${next.size} do not hash to its checkpoint's root`, 'fork');
  if (!verifyConsistency(previous.size, next.size, proof, previous.root, next.root)) {
    throw new LogVerificationError(`the tree of ${next.size} is not an extension of the tree of ${previous.size} seen before: the log forked`, 'fork');
  }
}

/** Checks from tiles that `entry` is in the checkpoint's tree; returns its index. */
export async function checkInclusion(log: TileLog, checkpoint: Checkpoint, entry: Uint8Array, index?: number): Promise<{ index: number; proof: Uint8Array[] }> {
  const hash = leafHash(entry);
  const at = index ?? (await log.findLeaf(checkpoint.size, hash));
  if (at === undefined || at >= checkpoint.size) throw new LogVerificationError(`the entry is not in the log's tree of ${checkpoint.size}`, 'inclusion');
  const { proof, root } = await log.withTree(checkpoint.size, (get) => ({ proof: inclusionProof(at, checkpoint.size, get), root: rootHash(checkpoint.size, get) }));
  if (!equalBytes(root, checkpoint.root)) throw new LogVerificationError(`the tiles of tree ${checkpoint.size} do not hash to its checkpoint's root`, 'inclusion');
  if (!verifyInclusion(at, checkpoint.size, hash, proof, checkpoint.root)) throw new LogVerificationError(`entry ${at} is not the given entry`, 'inclusion');
  return { index: at, proof };
}

/** The last checkpoint a client verified, kept in a small JSON file. */
export interface SeenCheckpoint {
  origin: string;
  size: number;
  root: string;
}

export async function readSeenCheckpoint(path: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const seen = JSON.parse(text) as SeenCheckpoint;
  return { origin: seen.origin, size: seen.size, root: new Uint8Array(Buffer.from(seen.root, 'base64')), extensions: [] };
}

export async function writeSeenCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const seen: SeenCheckpoint = { origin: checkpoint.origin, size: checkpoint.size, root: Buffer.from(checkpoint.root).toString('base64') };
  await writeFile(`${path}.tmp`, `${JSON.stringify(seen)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** The note the witness hands back: the checkpoint body with its cosignature only. */
export function cosignedNote(body: string, cosignature: NoteSignature): string {
  return formatSignedNote({ body, signatures: [cosignature] });
}

export { checkpointBody };
