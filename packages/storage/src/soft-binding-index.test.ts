import { randomInt } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from './database.js';
import { insertProject } from './repositories/projects.js';
import { findSoftBindingMatches, insertSoftBindings } from './repositories/soft-bindings.js';
import { createTestDatabase, type TestDatabase } from './testing.js';

/**
 * The in-memory soft-binding index against the database it mirrors: the same answers as a brute
 * force over the table, rows written after it was loaded (by another connection too) found, an
 * asset no longer active left out, one project's lookup seeing only that project.
 */
const ALG = 'io.iscc.v0';
let database: TestDatabase;
let db: Database;
let asset = 0;

const toSigned = (u: bigint) => BigInt.asIntN(64, u);
function randomFingerprint(): bigint {
  return (BigInt(randomInt(2 ** 32)) << 32n) | BigInt(randomInt(2 ** 32));
}
function flip(u: bigint, bits: number): bigint {
  const chosen = new Set<number>();
  while (chosen.size < bits) chosen.add(randomInt(64));
  for (const bit of chosen) u ^= 1n << BigInt(bit);
  return u;
}
const distance = (a: bigint, b: bigint) => [...(a ^ b).toString(2)].filter((c) => c === '1').length;

async function register(target: Database, projectId: string, fingerprint: bigint, status = 'ACTIVE'): Promise<string> {
  const id = `ast_index${asset++}`;
  await sql`insert into assets (id, project_id, kind, asset_sha256, status, request_id, manifest_label, signed_at)
    values (${id}, ${projectId}, 'ASSET', ${`sha256:${id}`}, ${status}, 'req_index', ${`urn:c2pa:${id}`}, now())`.execute(target);
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(fingerprint);
  await insertSoftBindings(target, {
    assetId: id,
    projectId,
    manifestLabel: `urn:c2pa:${id}`,
    softBindings: [{ alg: ALG, value: Buffer.concat([Buffer.from([0x21, 0x01]), bytes]), fingerprint: toSigned(fingerprint).toString(), bands: [0, 1, 2, 3].map((i) => bytes.readUInt16BE(2 * i)) }],
  });
  return id;
}

const lookup = (fingerprint: bigint, projectId?: string) =>
  findSoftBindingMatches(db, { alg: ALG, fingerprint: toSigned(fingerprint).toString(), maxDistance: 10, limit: 10, ...(projectId === undefined ? {} : { projectId }) });

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  for (const p of ['a', 'b']) await insertProject(db, { id: `prj_index_${p}`, name: `index ${p}`, description: '', defaultSignerId: null });
});
afterAll(async () => {
  await database?.close();
});

describe(`soft-binding index on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  it('answers as a brute force over the table, nearest first', async () => {
    const registered: Array<{ id: string; fingerprint: bigint }> = [];
    const base = randomFingerprint();
    // Near ones at known distances, and random ones (none within 10 bits of a random query).
    for (const bits of [0, 2, 5, 9, 10, 11, 20]) {
      const fingerprint = flip(base, bits);
      registered.push({ id: await register(db, 'prj_index_a', fingerprint), fingerprint });
    }
    for (let i = 0; i < 200; i++) {
      const fingerprint = randomFingerprint();
      registered.push({ id: await register(db, 'prj_index_a', fingerprint), fingerprint });
    }
    // The brute force reads the table itself (int8 as text: a JavaScript number would round it).
    const rows = await db.selectFrom('soft_bindings').select(['asset_id', sql<string>`fingerprint::text`.as('fingerprint')]).execute();
    const stored = new Map(rows.map((r) => [r.asset_id, BigInt.asUintN(64, BigInt(r.fingerprint))]));
    const expected = registered
      .map((r) => ({ id: r.id, d: distance(stored.get(r.id)!, base) }))
      .filter((r) => r.d <= 10)
      .sort((x, y) => x.d - y.d);
    const found = await lookup(base);
    expect(found.map((m) => m.distance)).toEqual(expected.map((e) => e.d));
    expect(new Set(found.map((m) => m.asset_id))).toEqual(new Set(expected.map((e) => e.id)));
    expect(found[0]).toMatchObject({ distance: 0, project_id: 'prj_index_a' });
    expect(await lookup(randomFingerprint())).toEqual([]);
  });

  it('finds what was registered after it was loaded, and leaves out assets no longer active', async () => {
    const fingerprint = randomFingerprint();
    expect(await lookup(fingerprint)).toEqual([]);
    const id = await register(db, 'prj_index_b', fingerprint);
    expect((await lookup(flip(fingerprint, 3))).map((m) => m.asset_id)).toEqual([id]);
    await db.updateTable('assets').set({ status: 'REVOKED' }).where('id', '=', id).execute();
    expect(await lookup(fingerprint)).toEqual([]);
  });

  it('keeps one project to itself', async () => {
    const fingerprint = randomFingerprint();
    const id = await register(db, 'prj_index_b', fingerprint);
    expect((await lookup(fingerprint, 'prj_index_b')).map((m) => m.asset_id)).toEqual([id]);
    expect(await lookup(fingerprint, 'prj_index_a')).toEqual([]);
    expect(await lookup(fingerprint, 'prj_index_none')).toEqual([]);
  });

  it.runIf(Boolean(process.env.DATABASE_URL))('sees a row whose transaction began before a lookup and committed after it', async () => {
    // A second process (another replica) writing: its own connection.
    const other = await openDatabase({ databaseUrl: database.url!, poolSize: 1 });
    try {
      const fingerprint = randomFingerprint();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let written!: () => void;
      const wrote = new Promise<void>((resolve) => (written = resolve));
      let id = '';
      const late = other.transaction().execute(async (trx) => {
        id = await register(trx as unknown as Database, 'prj_index_b', fingerprint);
        written();
        await held;
      });
      await wrote;
      // Meanwhile others commit and a lookup reads past them: the open transaction is not seen yet.
      const meanwhile = await register(db, 'prj_index_b', randomFingerprint());
      expect(await lookup(fingerprint)).toEqual([]);
      release();
      await late;
      expect((await lookup(fingerprint)).map((m) => m.asset_id)).toEqual([id]);
      expect(meanwhile).not.toBe(id);
    } finally {
      await other.destroy();
    }
  });
});
