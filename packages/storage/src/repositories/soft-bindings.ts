import type { Kysely, Transaction } from 'kysely';
import type { MeshDatabase } from '../schema.js';
import { softBindingIndex } from './soft-binding-index.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

/** A fingerprint to store: the algorithm's value, its 64-bit body as an integer, its 8 bytes. */
export interface NewSoftBinding {
  alg: string;
  value: Uint8Array;
  /** Signed 64-bit integer, decimal. */
  fingerprint: string;
  /** The body's four 16-bit quarters, 0–65535 each. */
  bands: readonly number[];
}

export interface SoftBindingsOfAsset {
  assetId: string;
  projectId: string;
  manifestLabel: string;
  softBindings: readonly NewSoftBinding[];
  /** The manifest store as embedded; undefined: not kept. */
  manifestStore?: Uint8Array;
}

/** Stores an asset's soft bindings and manifest store (call inside the asset's transaction). */
export async function insertSoftBindings(db: Db, entry: SoftBindingsOfAsset): Promise<void> {
  if (entry.softBindings.length > 0) {
    await db
      .insertInto('soft_bindings')
      .values(
        entry.softBindings.map((binding) => ({
          asset_id: entry.assetId,
          alg: binding.alg,
          project_id: entry.projectId,
          manifest_label: entry.manifestLabel,
          value: binding.value,
          fingerprint: binding.fingerprint,
          band0: binding.bands[0],
          band1: binding.bands[1],
          band2: binding.bands[2],
          band3: binding.bands[3],
        })),
      )
      .execute();
  }
  if (entry.manifestStore !== undefined && entry.manifestStore.length > 0) {
    await db
      .insertInto('manifest_stores')
      .values({ manifest_label: entry.manifestLabel, asset_id: entry.assetId, project_id: entry.projectId, manifest_store: entry.manifestStore })
      // A label names one manifest: registered again (a retried registration), the first stays.
      .onConflict((oc) => oc.column('manifest_label').doNothing())
      .execute();
  }
}

export interface SoftBindingMatchRow {
  asset_id: string;
  project_id: string;
  manifest_label: string;
  distance: number;
}

/**
 * Registered fingerprints at most `maxDistance` bits from `query`, nearest first, of active assets
 * (of one project when `projectId` is set). The candidates come from the process's in-memory
 * index of the algorithm's fingerprints, brought up to date from the database first (see
 * SoftBindingIndex); which of them are still active is asked of the database. `bandProbes` is not
 * needed by the index (it compares with every fingerprint) and is kept for callers.
 */
export async function findSoftBindingMatches(
  db: Db,
  query: { alg: string; fingerprint: string; bandProbes?: ReadonlyArray<readonly number[]>; projectId?: string; maxDistance: number; limit: number },
): Promise<SoftBindingMatchRow[]> {
  const index = softBindingIndex(db, query.alg);
  const search = () => index.search(BigInt(query.fingerprint), query.maxDistance, MAX_CANDIDATES, query.projectId);
  // Which candidates are active is asked while the index reads what is new (two round trips at
  // once, on two connections); only a new row that is a candidate needs a second question.
  const checked = new Set<string>();
  const active = new Set<string>();
  const ask = async (ids: string[]) => {
    for (const id of ids) checked.add(id);
    if (ids.length === 0) return;
    const rows = await db.selectFrom('assets').select('id').where('id', 'in', ids).where('status', '=', 'ACTIVE').execute();
    for (const row of rows) active.add(row.id);
  };
  await Promise.all([index.refresh(db), ask(search().map((c) => c.assetId))]);
  const candidates = search();
  await ask(candidates.map((c) => c.assetId).filter((id) => !checked.has(id)));
  return candidates
    .filter((c) => active.has(c.assetId))
    .slice(0, query.limit)
    .map((c) => ({ asset_id: c.assetId, project_id: c.projectId, manifest_label: c.manifestLabel, distance: c.distance }));
}

/** At most this many fingerprints within the threshold are looked at (deleted assets included). */
const MAX_CANDIDATES = 500;

/** A stored manifest store by label (of one project when `projectId` is set), of an active asset. */
export async function findManifestStore(db: Db, manifestLabel: string, projectId?: string): Promise<{ asset_id: string; project_id: string; manifest_store: Uint8Array } | undefined> {
  let select = db
    .selectFrom('manifest_stores as m')
    .innerJoin('assets as a', 'a.id', 'm.asset_id')
    .select(['m.asset_id', 'm.project_id', 'm.manifest_store'])
    .where('m.manifest_label', '=', manifestLabel)
    .where('a.status', '=', 'ACTIVE');
  if (projectId !== undefined) select = select.where('m.project_id', '=', projectId);
  return select.executeTakeFirst();
}
