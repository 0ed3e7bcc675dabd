import { sql, type Kysely, type Transaction } from 'kysely';
import type { MeshDatabase } from '../schema.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

/** A fingerprint within the threshold: where it is registered and how far it is. */
export interface IndexedMatch {
  assetId: string;
  projectId: string;
  manifestLabel: string;
  createdAtMs: number;
  distance: number;
}

/** Bits set in a 32-bit word (the classic SWAR count). */
function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

interface IndexRow {
  asset_id: string | null;
  project_id: string | null;
  manifest_label: string | null;
  hi: number | null;
  lo: number | string | null;
  created_ms: number | null;
  horizon: string;
}

/**
 * The registered fingerprints of one algorithm, in memory: a lookup compares the query with all
 * of them (two XORs and two bit counts each, about a millisecond for 100,000), which is exact for
 * any threshold and costs no index probes. The database stays the truth: before each lookup the
 * index reads the rows written by transactions at or after the horizon of its previous read (the
 * oldest transaction then still running, `pg_snapshot_xmin`), so it sees every row another
 * process or replica committed since, without missing one that committed late. Rows are only
 * ever added (an asset's status is checked in the database after the lookup).
 */
export class SoftBindingIndex {
  readonly #alg: string;
  #size = 0;
  #hi = new Uint32Array(1024);
  #lo = new Uint32Array(1024);
  #project = new Int32Array(1024);
  #createdMs = new Float64Array(1024);
  #assetIds: string[] = [];
  #labels: string[] = [];
  /** Row of each asset (a row read twice, around a horizon, is kept once). */
  readonly #rowOf = new Map<string, number>();
  readonly #projectIds: string[] = [];
  readonly #projectNumber = new Map<string, number>();
  /** Transactions from this one on may have written rows not read yet ('0': read everything). */
  #horizon = '0';
  #refreshing: Promise<void> | undefined;

  constructor(alg: string) {
    this.#alg = alg;
  }

  get size(): number {
    return this.#size;
  }

  /** Reads what was written since the last read (one read at a time; callers share it). */
  async refresh(db: Db): Promise<void> {
    while (this.#refreshing !== undefined) await this.#refreshing;
    this.#refreshing = this.#read(db).finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #read(db: Db): Promise<void> {
    // One statement, one snapshot: the horizon and the rows are of the same moment. The left
    // join gives the horizon even when there is nothing new.
    const { rows } = await sql<IndexRow>`select h.horizon::text as horizon, sb.asset_id, sb.project_id, sb.manifest_label,
        (sb.fingerprint >> 32)::int4 as hi, (sb.fingerprint & 4294967295)::int8 as lo,
        (extract(epoch from sb.created_at) * 1000)::float8 as created_ms
      from (select pg_snapshot_xmin(pg_current_snapshot()) as horizon) h
      left join soft_bindings sb on sb.alg = ${this.#alg} and sb.inserted_xid >= ${this.#horizon}::xid8`.execute(db);
    for (const row of rows) {
      if (row.asset_id === null) continue;
      this.#put(row.asset_id, row.project_id!, row.manifest_label!, row.hi! >>> 0, Number(row.lo) >>> 0, row.created_ms!);
    }
    if (rows[0] !== undefined) this.#horizon = rows[0].horizon;
  }

  #put(assetId: string, projectId: string, label: string, hi: number, lo: number, createdMs: number): void {
    let row = this.#rowOf.get(assetId);
    if (row === undefined) {
      row = this.#size++;
      if (row === this.#hi.length) this.#grow();
      this.#rowOf.set(assetId, row);
    }
    let project = this.#projectNumber.get(projectId);
    if (project === undefined) {
      project = this.#projectIds.push(projectId) - 1;
      this.#projectNumber.set(projectId, project);
    }
    this.#hi[row] = hi;
    this.#lo[row] = lo;
    this.#project[row] = project;
    this.#createdMs[row] = createdMs;
    this.#assetIds[row] = assetId;
    this.#labels[row] = label;
  }

  #grow(): void {
    const grown = <T extends Uint32Array | Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    this.#hi = grown(this.#hi);
    this.#lo = grown(this.#lo);
    this.#project = grown(this.#project);
    this.#createdMs = grown(this.#createdMs);
  }

  /**
   * Fingerprints at most `maxDistance` bits from the 64-bit `fingerprint` (of one project when
   * `projectId` is set), nearest first, then newest, then by asset id; at most `limit`.
   */
  search(fingerprint: bigint, maxDistance: number, limit: number, projectId?: string): IndexedMatch[] {
    const unsigned = BigInt.asUintN(64, fingerprint);
    const qHi = Number(unsigned >> 32n);
    const qLo = Number(unsigned & 0xffffffffn);
    let project = -1;
    if (projectId !== undefined) {
      project = this.#projectNumber.get(projectId) ?? -2;
      if (project === -2) return [];
    }
    const hi = this.#hi;
    const lo = this.#lo;
    const projects = this.#project;
    const found: number[] = [];
    const distances: number[] = [];
    for (let i = 0, n = this.#size; i < n; i++) {
      const d = popcount32(hi[i]! ^ qHi) + popcount32(lo[i]! ^ qLo);
      if (d <= maxDistance && (project < 0 || projects[i] === project)) {
        found.push(i);
        distances.push(d);
      }
    }
    const order = found.map((_, k) => k);
    order.sort((a, b) => distances[a]! - distances[b]! || this.#createdMs[found[b]!]! - this.#createdMs[found[a]!]! || (this.#assetIds[found[a]!]! < this.#assetIds[found[b]!]! ? -1 : 1));
    return order.slice(0, limit).map((k) => {
      const i = found[k]!;
      return {
        assetId: this.#assetIds[i]!,
        projectId: this.#projectIds[this.#project[i]!]!,
        manifestLabel: this.#labels[i]!,
        createdAtMs: this.#createdMs[i]!,
        distance: distances[k]!,
      };
    });
  }
}

/** One index per database and algorithm, for the life of the database object. */
const indexes = new WeakMap<object, Map<string, SoftBindingIndex>>();

export function softBindingIndex(db: Db, alg: string): SoftBindingIndex {
  let byAlg = indexes.get(db);
  if (byAlg === undefined) {
    byAlg = new Map();
    indexes.set(db, byAlg);
  }
  let index = byAlg.get(alg);
  if (index === undefined) {
    index = new SoftBindingIndex(alg);
    byAlg.set(alg, index);
  }
  return index;
}
