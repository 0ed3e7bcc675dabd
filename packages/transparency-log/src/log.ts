import { generateKeyPairSync } from 'node:crypto';
import { failedPrecondition, invalidArgument, notFound, unavailable } from '@c2pa-mesh/errors';
import { decryptPrivateKey, encryptPrivateKey } from '@c2pa-mesh/key-custody';
import type { Database } from '@c2pa-mesh/storage';
import { sql, type Transaction } from 'kysely';
import type { MeshDatabase } from '@c2pa-mesh/storage';
import {
  EMPTY_ROOT,
  completedNodes,
  consistencyProof,
  equalBytes,
  frontierNodes,
  inclusionProof,
  leafHash,
  nodesRead,
  rootHash,
  type NodeGetter,
  type RangeCache,
} from './merkle.js';
import {
  checkpointBody,
  NOTE_ED25519,
  createNoteSigner,
  formatVerifierKey,
  formatSignedNote,
  parseCheckpointBody,
  parseSignedNote,
  signatureLine,
  verifyCosignature,
  type NoteSigner,
  type VerifierKey,
} from './note.js';
import { MAX_ENTRY_BYTES, TILE_HEIGHT, TILE_WIDTH, encodeEntryBundle, tileWidth, type TileRef } from './tiles.js';

export interface TransparencyLogOptions {
  db: Database;
  /** Seals the log's Ed25519 key at rest. Absent: this process only reads the log (tiles). */
  keyEncryptionKey?: Uint8Array;
  /** The checkpoint origin line (and the log key's name) used when the log is first made. */
  origin: string;
  /** Witnesses whose cosignatures the log accepts (cosignature/v1 verifier keys). */
  witnesses: readonly VerifierKey[];
  /** Largest number of entries sequenced in one transaction. */
  maxBatch?: number;
  /** Told about a batch that failed (its appends are refused with `unavailable`). */
  onBatchError?: (error: unknown) => void;
}

export interface AppendResult {
  index: number;
  leafHash: Uint8Array;
  proof: Uint8Array[];
  treeSize: number;
  /** The signed checkpoint of `treeSize`. */
  checkpoint: string;
}

export interface CheckpointView {
  treeSize: number;
  rootHash: Uint8Array;
  /** The log-signed note followed by the cosignature lines received for it. */
  note: string;
  cosigned: boolean;
}

export interface TransparencyLog {
  readonly origin: string;
  readonly verifierKey: string;
  append(entry: Uint8Array): Promise<AppendResult>;
  latestCheckpoint(): Promise<CheckpointView>;
  checkpoint(treeSize: number): Promise<CheckpointView>;
  findLeaf(hash: Uint8Array): Promise<number | undefined>;
  leafHashAt(index: number): Promise<Uint8Array>;
  inclusionProof(index: number, treeSize: number): Promise<Uint8Array[]>;
  consistencyProof(first: number, second: number): Promise<{ proof: Uint8Array[]; firstRoot: Uint8Array; secondRoot: Uint8Array }>;
  /** Whether a cosigned checkpoint covers leaf `index` (the entry is final). */
  isCosigned(index: number): Promise<boolean>;
  tile(tile: TileRef): Promise<Uint8Array | undefined>;
  /** Verifies and stores a witness's cosignature of one of the log's checkpoints. */
  addCosignatures(note: string): Promise<{ treeSize: number; accepted: string[] }>;
  close(): Promise<void>;
}

const STATE_ID = 1;
const DEFAULT_MAX_BATCH = 4096;
/** Rows per INSERT: below PostgreSQL's 65,535 bind parameters. */
const INSERT_CHUNK = 2000;

type Reader = Database | Transaction<MeshDatabase>;

/** A node's key in the maps of nodes read or made. */
const nodeKey = (level: number, index: number) => `${level}/${index}`;

async function readNodes(db: Reader, keys: ReadonlyArray<[number, number]>): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>();
  for (let at = 0; at < keys.length; at += 500) {
    const chunk = keys.slice(at, at + 500);
    const rows = await db
      .selectFrom('tlog_nodes')
      .select(['level', 'idx', 'hash'])
      .where((eb) => eb.or(chunk.map(([level, index]) => eb.and([eb('level', '=', level), eb('idx', '=', index)]))))
      .execute();
    for (const row of rows) found.set(nodeKey(row.level, Number(row.idx)), new Uint8Array(row.hash));
  }
  return found;
}

/** Runs `compute` over stored nodes: one query for every node it reads. */
async function withNodes<T>(db: Reader, compute: (get: NodeGetter) => T): Promise<T> {
  const stored = await readNodes(db, nodesRead(compute));
  return compute((level, index) => {
    const key = nodeKey(level, index);
    const hash = stored.get(key);
    if (hash === undefined) throw new Error(`the log has no node ${key}`);
    return hash;
  });
}

function generateLogKey(): Uint8Array {
  const { privateKey } = generateKeyPairSync('ed25519');
  return new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }));
}

/** Makes the log's key and empty checkpoint on first use; the signer of its checkpoints. */
async function openWriter(db: Database, keyEncryptionKey: Uint8Array, configuredOrigin: string) {
  const pkcs8 = generateLogKey();
  await db
    .insertInto('tlog_state')
    .values({
      id: STATE_ID,
      origin: configuredOrigin,
      public_key: createNoteSigner(configuredOrigin, pkcs8).publicKey,
      encrypted_private_key: encryptPrivateKey(pkcs8, keyEncryptionKey, configuredOrigin),
      tree_size: 0,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const state = await db.selectFrom('tlog_state').selectAll().where('id', '=', STATE_ID).executeTakeFirstOrThrow();
  // The origin is the log's identity: once made, it stays (a new origin would be a new log).
  const signer: NoteSigner = createNoteSigner(state.origin, decryptPrivateKey(new Uint8Array(state.encrypted_private_key), keyEncryptionKey, state.origin));
  const signCheckpoint = (size: number, root: Uint8Array) => {
    const body = checkpointBody({ origin: state.origin, size, root, extensions: [] });
    return formatSignedNote({ body, signatures: [signer.sign(body)] });
  };
  await db
    .insertInto('tlog_checkpoints')
    .values({ tree_size: 0, root_hash: EMPTY_ROOT, note: signCheckpoint(0, EMPTY_ROOT) })
    .onConflict((oc) => oc.column('tree_size').doNothing())
    .execute();
  return { signer, signCheckpoint };
}

/** The tree a batch extends: its size and the complete subtrees it is made of. */
interface TreeEdge {
  size: number;
  /** The state row's version (PostgreSQL's `xmin`) that recorded `size`. */
  version: string;
  /** `level/index` → hash of every node of `frontierNodes(size)`. */
  frontier: Map<string, Uint8Array>;
}


/**
 * Opens the log kept in the database (making its key and empty checkpoint on first use) and
 * starts its sequencer. Appends are committed in groups: when no batch is being written, an
 * append starts one at once (with whatever else was appended in the same turn of the event loop);
 * the appends that arrive while a batch is written go together in the next one, which starts as
 * soon as that one has committed. A batch is one transaction that adds the leaves, every subtree
 * hash they complete and the signed checkpoint — so a crash leaves either the whole batch or none
 * of it.
 */
export async function openTransparencyLog(options: TransparencyLogOptions): Promise<TransparencyLog> {
  const { db } = options;
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const writer = options.keyEncryptionKey === undefined ? undefined : await openWriter(db, options.keyEncryptionKey, options.origin);
  const stateRow = await db.selectFrom('tlog_state').select(['origin', 'public_key']).where('id', '=', STATE_ID).executeTakeFirst();
  const origin = writer?.signer.name ?? stateRow?.origin ?? options.origin;
  const verifierKey = writer?.signer.verifierKey ?? (stateRow === undefined ? '' : formatVerifierKey(stateRow.origin, NOTE_ED25519, new Uint8Array(stateRow.public_key)));

  interface Pending {
    entry: Uint8Array;
    leafHash: Uint8Array;
    resolve(result: AppendResult): void;
    reject(error: unknown): void;
  }
  let queue: Pending[] = [];
  /** The batch being written. */
  let running: Promise<void> | undefined;
  /** A batch is due to start once the current turn of the event loop has queued its appends. */
  let starting = false;
  let closed = false;
  /**
   * The tree as this process last committed it. When another process sequencing the same log (or
   * anything else) has written the state row since, the row's version differs and the edge's
   * nodes are read again.
   */
  let edge: TreeEdge | undefined;

  async function sequence(batch: Pending[]): Promise<void> {
    if (writer === undefined) throw new Error('this process does not sequence the log');
    const { signCheckpoint } = writer;
    const hashes = batch.map((p) => p.leafHash);
    const result = await db.transaction().execute(async (trx) => {
      // The state row is the log's lock: a second process sequencing the same log waits here.
      // Its version (`xmin`, the transaction that wrote it) tells whether anyone but this process
      // has written it since this process's last batch.
      const row = await trx
        .selectFrom('tlog_state')
        .select(['tree_size', sql<string>`xmin::text`.as('version')])
        .where('id', '=', STATE_ID)
        .forUpdate()
        .executeTakeFirstOrThrow();
      const size = Number(row.tree_size);
      const current = edge !== undefined && edge.version === row.version && edge.size === size ? edge : { frontier: await readNodes(trx, frontierNodes(size)) };
      const newSize = size + batch.length;
      // Only the old tree's frontier and the batch's own nodes are read: anything else is a bug.
      const old: NodeGetter = (level, index) => {
        const hash = current.frontier.get(nodeKey(level, index));
        if (hash === undefined) throw new Error(`the log has no node ${nodeKey(level, index)} in its frontier at ${size}`);
        return hash;
      };
      const added = completedNodes(size, hashes, old);
      const fresh = new Map(added.map((n) => [nodeKey(n.level, n.index), n.hash]));
      const get: NodeGetter = (level, index) => fresh.get(nodeKey(level, index)) ?? old(level, index);
      const ranges: RangeCache = new Map();
      const newRoot = rootHash(newSize, get, ranges);
      const proofs = hashes.map((_, i) => inclusionProof(size + i, newSize, get, ranges));
      const note = signCheckpoint(newSize, newRoot);
      for (let at = 0; at < batch.length; at += INSERT_CHUNK) {
        await trx
          .insertInto('tlog_leaves')
          .values(batch.slice(at, at + INSERT_CHUNK).map((p, i) => ({ idx: size + at + i, leaf_hash: hashes[at + i]!, entry: p.entry })))
          .execute();
      }
      for (let at = 0; at < added.length; at += INSERT_CHUNK) {
        await trx
          .insertInto('tlog_nodes')
          .values(added.slice(at, at + INSERT_CHUNK).map((n) => ({ level: n.level, idx: n.index, hash: n.hash })))
          .execute();
      }
      await trx.insertInto('tlog_checkpoints').values({ tree_size: newSize, root_hash: newRoot, note }).execute();
      const written = await trx
        .updateTable('tlog_state')
        .set({ tree_size: newSize })
        .where('id', '=', STATE_ID)
        .returning(sql<string>`xmin::text`.as('version'))
        .executeTakeFirstOrThrow();
      const next: TreeEdge = { size: newSize, version: written.version, frontier: new Map(frontierNodes(newSize).map(([l, i]) => [nodeKey(l, i), get(l, i)])) };
      return { size, newSize, proofs, note, next };
    });
    // Committed: the next batch of this process starts from here without reading the nodes again.
    edge = result.next;
    batch.forEach((p, i) =>
      p.resolve({ index: result.size + i, leafHash: hashes[i]!, proof: result.proofs[i]!, treeSize: result.newSize, checkpoint: result.note }),
    );
  }

  /** Writes the queued appends (up to maxBatch) as one batch, then the next batch, if any. */
  function runBatch(): void {
    starting = false;
    if (running !== undefined || queue.length === 0) return;
    const batch = queue.slice(0, maxBatch);
    queue = queue.slice(batch.length);
    running = sequence(batch)
      .catch((error: unknown) => {
        // What this process knew of the tree may be what failed: the next batch reads it again.
        edge = undefined;
        options.onBatchError?.(error);
        for (const p of batch) p.reject(unavailable('the transparency log could not record the signature; retry the request'));
      })
      .finally(() => {
        running = undefined;
        // What arrived while this batch was written goes next, at once.
        if (queue.length > 0) startSoon();
      });
  }

  /** Starts a batch after the appends of this turn of the event loop are queued, unless one runs. */
  function startSoon(): void {
    if (starting || running !== undefined) return;
    starting = true;
    setImmediate(runBatch);
  }

  async function checkpointView(row: { tree_size: number; root_hash: Uint8Array; note: string }): Promise<CheckpointView> {
    const cosignatures = await db.selectFrom('tlog_cosignatures').select('signature_line').where('tree_size', '=', row.tree_size).orderBy('witness').execute();
    return {
      treeSize: Number(row.tree_size),
      rootHash: new Uint8Array(row.root_hash),
      note: row.note + cosignatures.map((c) => c.signature_line).join(''),
      cosigned: cosignatures.length > 0,
    };
  }

  async function latestSize(): Promise<number> {
    const row = await db.selectFrom('tlog_checkpoints').select(sql<number>`max(tree_size)`.as('size')).executeTakeFirstOrThrow();
    return Number(row.size ?? 0);
  }

  async function checkSize(treeSize: number): Promise<void> {
    if (!Number.isSafeInteger(treeSize) || treeSize < 0) throw invalidArgument('a tree size is a non-negative integer', { details: { field: 'tree_size' } });
    const latest = await latestSize();
    if (treeSize > latest) throw failedPrecondition(`the log has ${latest} entries; no tree of ${treeSize} exists yet`, { details: { field: 'tree_size' } });
  }

  const log: TransparencyLog = {
    origin,
    verifierKey,
    append(entry) {
      if (writer === undefined) return Promise.reject(unavailable('this process does not sequence the transparency log'));
      if (closed) return Promise.reject(unavailable('the transparency log is shutting down'));
      if (entry.length === 0 || entry.length > MAX_ENTRY_BYTES) {
        return Promise.reject(invalidArgument(`a log entry is 1 to ${MAX_ENTRY_BYTES} bytes, got ${entry.length}`, { details: { field: 'entry' } }));
      }
      // Hashed here, as each append comes, rather than inside the batch's transaction.
      const hash = leafHash(entry);
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ entry, leafHash: hash, resolve, reject });
        startSoon();
      });
    },
    async latestCheckpoint() {
      const row = await db.selectFrom('tlog_checkpoints').selectAll().orderBy('tree_size', 'desc').limit(1).executeTakeFirst();
      if (row === undefined) throw unavailable('the transparency log has not signed its first checkpoint yet');
      return checkpointView(row);
    },
    async checkpoint(treeSize) {
      await checkSize(treeSize);
      const row = await db.selectFrom('tlog_checkpoints').selectAll().where('tree_size', '=', treeSize).executeTakeFirst();
      if (row === undefined) throw notFound(`the log signed no checkpoint of size ${treeSize}`);
      return checkpointView(row);
    },
    async findLeaf(hash) {
      const row = await db.selectFrom('tlog_leaves').select('idx').where('leaf_hash', '=', hash).orderBy('idx').limit(1).executeTakeFirst();
      return row === undefined ? undefined : Number(row.idx);
    },
    async leafHashAt(index) {
      const row = await db.selectFrom('tlog_leaves').select('leaf_hash').where('idx', '=', index).executeTakeFirst();
      if (row === undefined) throw notFound(`the log has no entry ${index}`);
      return new Uint8Array(row.leaf_hash);
    },
    async inclusionProof(index, treeSize) {
      await checkSize(treeSize);
      if (!Number.isSafeInteger(index) || index < 0 || index >= treeSize) throw invalidArgument(`entry ${index} is not in the tree of ${treeSize}`, { details: { field: 'log_index' } });
      return withNodes(db, (get) => inclusionProof(index, treeSize, get));
    },
    async consistencyProof(first, second) {
      await checkSize(second);
      if (!Number.isSafeInteger(first) || first < 0 || first > second) {
        throw invalidArgument(`the first tree size (${first}) must be between 0 and the second (${second})`, { details: { field: 'first_size' } });
      }
      return withNodes(db, (get) => ({ proof: consistencyProof(first, second, get), firstRoot: rootHash(first, get), secondRoot: rootHash(second, get) }));
    },
    async isCosigned(index) {
      const row = await db.selectFrom('tlog_cosignatures').select('tree_size').where('tree_size', '>', index).limit(1).executeTakeFirst();
      return row !== undefined;
    },
    async tile(tile) {
      const size = await latestSize();
      if (tile.level === 'entries') {
        if (tileWidth(size, 0, tile.index) < tile.width) return undefined;
        const rows = await db
          .selectFrom('tlog_leaves')
          .select('entry')
          .where('idx', '>=', tile.index * TILE_WIDTH)
          .where('idx', '<', tile.index * TILE_WIDTH + tile.width)
          .orderBy('idx')
          .execute();
        return encodeEntryBundle(rows.map((r) => new Uint8Array(r.entry)));
      }
      if (tileWidth(size, tile.level, tile.index) < tile.width) return undefined;
      const rows = await db
        .selectFrom('tlog_nodes')
        .select('hash')
        .where('level', '=', tile.level * TILE_HEIGHT)
        .where('idx', '>=', tile.index * TILE_WIDTH)
        .where('idx', '<', tile.index * TILE_WIDTH + tile.width)
        .orderBy('idx')
        .execute();
      return Buffer.concat(rows.map((r) => r.hash));
    },
    async addCosignatures(text) {
      let note;
      let checkpoint;
      try {
        note = parseSignedNote(text);
        checkpoint = parseCheckpointBody(note.body);
      } catch (error) {
        throw invalidArgument(`not a cosigned checkpoint: ${(error as Error).message}`);
      }
      if (checkpoint.origin !== origin) throw invalidArgument(`the checkpoint is of another log (${checkpoint.origin}), not ${origin}`);
      const row = await db.selectFrom('tlog_checkpoints').selectAll().where('tree_size', '=', checkpoint.size).executeTakeFirst();
      if (row === undefined || !equalBytes(new Uint8Array(row.root_hash), checkpoint.root) || parseSignedNote(row.note).body !== note.body) {
        throw failedPrecondition(`the log signed no such checkpoint of size ${checkpoint.size}`);
      }
      const accepted: string[] = [];
      for (const signature of note.signatures) {
        const witness = options.witnesses.find((w) => w.name === signature.name && equalBytes(w.keyId, signature.keyId));
        if (witness === undefined) continue;
        const time = verifyCosignature(note.body, signature, witness);
        if (time === undefined) throw invalidArgument(`the cosignature of ${signature.name} does not verify`);
        await db
          .insertInto('tlog_cosignatures')
          .values({ tree_size: checkpoint.size, witness: witness.name, signature_line: signatureLine(signature), cosigned_at: new Date(time * 1000) })
          .onConflict((oc) => oc.columns(['tree_size', 'witness']).doNothing())
          .execute();
        accepted.push(witness.name);
      }
      if (accepted.length === 0) throw failedPrecondition('the note carries no cosignature of a witness this log trusts (MESH_LOG_WITNESSES)');
      return { treeSize: checkpoint.size, accepted };
    },
    async close() {
      closed = true;
      // Appends already accepted are written before the database closes.
      while (running !== undefined || queue.length > 0) {
        if (running === undefined) runBatch();
        await running;
      }
    },
  };
  return log;
}
