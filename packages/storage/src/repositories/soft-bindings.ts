import { sql, type Kysely, type Transaction } from 'kysely';
import type { MeshDatabase } from '../schema.js';

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
 * (of one project when `projectId` is set). `bandProbes[i]` lists the values of quarter i to look
 * up (the query's quarter and its neighbours); candidates are the rows with some quarter among
 * them (each quarter indexed), their exact distance the bit count of the XOR.
 */
export async function findSoftBindingMatches(
  db: Db,
  query: { alg: string; fingerprint: string; bandProbes: ReadonlyArray<readonly number[]>; projectId?: string; maxDistance: number; limit: number },
): Promise<SoftBindingMatchRow[]> {
  const probes = query.bandProbes;
  const distance = sql<number>`bit_count((sb.fingerprint # ${query.fingerprint}::bigint)::bit(64))::int`;
  const band = (i: 0 | 1 | 2 | 3) => sql<boolean>`${sql.ref(`sb.band${i}`)} = any(${`{${probes[i].join(',')}}`}::int[])`;
  // Two steps, each with a plan that cannot go wrong: the candidates from the band indexes alone
  // (the planner cannot estimate the distance filter, and joined with assets it may scan them
  // all), then which of the few within the threshold are still active.
  let candidates = db
    .selectFrom('soft_bindings as sb')
    .select(['sb.asset_id', 'sb.project_id', 'sb.manifest_label', 'sb.created_at', distance.as('distance')])
    .where('sb.alg', '=', query.alg)
    .where((eb) => eb.or([band(0), band(1), band(2), band(3)]))
    .where(distance, '<=', query.maxDistance);
  if (query.projectId !== undefined) candidates = candidates.where('sb.project_id', '=', query.projectId);
  const rows = await candidates.orderBy(distance).orderBy('sb.created_at', 'desc').orderBy('sb.asset_id').limit(MAX_CANDIDATES).execute();
  if (rows.length === 0) return [];
  const active = new Set(
    (await db.selectFrom('assets').select('id').where('id', 'in', rows.map((row) => row.asset_id)).where('status', '=', 'ACTIVE').execute()).map((row) => row.id),
  );
  return rows
    .filter((row) => active.has(row.asset_id))
    .slice(0, query.limit)
    .map((row) => ({ asset_id: row.asset_id, project_id: row.project_id, manifest_label: row.manifest_label, distance: Number(row.distance) }));
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
