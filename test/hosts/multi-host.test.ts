import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import { RegistryService, SigningService, VerificationService, verificationV1 } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../support/cleanup.js';
import { SERVICE_ORDER } from '../support/four-processes.js';
import { haproxyUnavailable } from '../support/haproxy.js';
import { meshClient, type ClientCredentials } from '../support/mesh-clients.js';
import { DEFAULT_POSTGRES_URL, postgresUnavailable, startMultiHostMesh, type MultiHostMesh } from '../support/multi-host.js';
import { netnsUnavailable } from '../support/netns.js';
import { FIXTURES } from '../support/start-mesh.js';

const { ValidationState } = verificationV1;

/** Load: a few workers, each call paced, so the machine is busy but not swamped. */
const WORKERS = 4;
const MIN_CALL_MS = 1000;
const MAX_CALLS = 600;
const CALL_TIMEOUT_MS = 30_000;
/** Calls after the rolling restart: every one must succeed. */
const CALLS_AFTER = 10;

const TRAINED = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
const manifest = (title: string) =>
  JSON.stringify({ title, assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED }] } }] });
const jpeg = new Uint8Array(readFileSync(path.join(FIXTURES, 'no_manifest.jpg')));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const postgresUrl = process.env.DATABASE_URL ?? DEFAULT_POSTGRES_URL;
// The test needs namespaces, HAProxy and a PostgreSQL server. Outside CI it is skipped, saying
// why; in CI a missing one fails it.
const missing = (await netnsUnavailable()) ?? (await haproxyUnavailable()) ?? (await postgresUnavailable(postgresUrl));
// Its services always run on PostgreSQL, whichever database the suite runs on: CI's pass on the
// embedded database would repeat the PostgreSQL pass's run exactly, so CI runs it in that one only.
const repeatsPostgresPass = Boolean(process.env.CI) && !process.env.DATABASE_URL;
const skip = repeatsPostgresPass || (missing !== undefined && !process.env.CI);
if (repeatsPostgresPass) console.warn('multi-host test: run in the PostgreSQL pass (DATABASE_URL set), which it would repeat here');
else if (skip) console.warn(`multi-host test skipped: ${missing} (in CI this fails)`);

type Phase = 'steady' | 'kill' | 'rolling restart' | 'after';
interface Call {
  n: number;
  op: 'Sign' | 'Verify';
  phase: Phase;
  code: string;
  /** The error's message, for a failed call. */
  message?: string;
  ms: number;
  title?: string;
  assetId?: string;
  assetSha256?: string;
  /** A Verify answered, but not TRUSTED and registered as the asset it was given. */
  wrong?: string;
}

describe.skipIf(skip)('several hosts: two replicas per service behind HAProxy, kill -9 and a rolling restart under load', () => {
  let mesh: MultiHostMesh | undefined;
  let admin: ClientCredentials;
  const runId = randomBytes(4).toString('hex');

  beforeAll(async () => {
    if (missing) throw new Error(`the multi-host test cannot run: ${missing}`);
    mesh = await startMultiHostMesh({ postgresUrl });
    admin = { caPath: mesh.files.meshCa, certPath: mesh.files.adminCert, keyPath: mesh.files.adminKey };
  }, 600_000);
  afterAll(async () => {
    const lab = mesh?.lab;
    await cleanUp({ mesh: () => mesh?.stop() }, 120_000);
    // Nothing of this run is left: no namespace, veth or bridge.
    if (lab) expect(await lab.leftovers()).toEqual([]);
  }, 150_000);

  it('loses no accepted call and registers every signed asset once', async () => {
    const { replicas, urls } = mesh!;
    const registry = meshClient(RegistryService, urls.registry, admin);
    const { projectId } = await registry.createProject({ name: `multi-host ${runId}` });
    const signing: Client<typeof SigningService> = meshClient(SigningService, urls.signing, admin, 'grpc');
    const verification: Client<typeof VerificationService> = meshClient(VerificationService, urls.verification, admin, 'grpc');

    const calls: Call[] = [];
    const signed: { assetId: string; asset: Uint8Array }[] = [];
    let phase: Phase = 'steady';
    let stopLoad = false;
    const started = Date.now();

    const log = (what: string) => console.log(`[multi-host +${((Date.now() - started) / 1000).toFixed(1)} s, ${calls.length} calls] ${what}`);

    async function oneCall(): Promise<Call> {
      const n = calls.length;
      const op = n % 2 === 0 || signed.length === 0 ? 'Sign' : 'Verify';
      const call: Call = { n, op, phase, code: 'pending', ms: 0 };
      calls.push(call);
      const t0 = Date.now();
      try {
        if (op === 'Sign') {
          call.title = `multi-host ${runId} call ${n}`;
          const res = await signing.sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest(call.title), projectId }, { timeoutMs: CALL_TIMEOUT_MS });
          call.assetId = res.assetId;
          call.assetSha256 = res.assetSha256;
          signed.push({ assetId: res.assetId, asset: res.signedAsset });
          if (signed.length > 20) signed.shift();
        } else {
          const target = signed[n % signed.length];
          const res = await verification.verify({ asset: target.asset }, { timeoutMs: CALL_TIMEOUT_MS });
          if (res.validationState !== ValidationState.TRUSTED || !res.registered || res.assetId !== target.assetId) {
            call.wrong = `${ValidationState[res.validationState]} registered=${res.registered} asset=${res.assetId || '-'} (expected ${target.assetId})`;
          }
        }
        call.code = 'ok';
      } catch (error) {
        const e = ConnectError.from(error);
        call.code = Code[e.code].replace(/[A-Z]/g, (c, i) => (i ? '_' : '') + c.toLowerCase());
        call.message = e.rawMessage;
        if (calls.filter((c) => c.message).length <= 10) log(`${op} ${n} failed: ${call.code}: ${call.message}`);
      }
      call.ms = Date.now() - t0;
      return call;
    }

    async function worker(): Promise<void> {
      while (!stopLoad && calls.length < MAX_CALLS) {
        const t0 = Date.now();
        await oneCall();
        await sleep(Math.max(0, MIN_CALL_MS - (Date.now() - t0)));
      }
    }

    const load = Promise.all(Array.from({ length: WORKERS }, worker));
    try {
      // Steady state first: the mesh answers before anything is killed.
      while (calls.filter((c) => c.code === 'ok').length < 10) {
        if (Date.now() - started > 120_000) throw new Error(`fewer than 10 calls succeeded in 120 s before anything was killed (${calls.length} made)`);
        await sleep(200);
      }
      log('steady: 10 calls succeeded');
      phase = 'kill';
      for (const service of SERVICE_ORDER) {
        await replicas[service][0].kill();
        log(`killed ${replicas[service][0].name} with SIGKILL`);
      }
      await sleep(3000);
      phase = 'rolling restart';
      for (const service of SERVICE_ORDER) {
        for (const replica of replicas[service]) {
          if (replica.running) await replica.stop();
          await replica.start();
          // HAProxy takes a backend back after two passed checks 1 s apart.
          await sleep(2500);
          log(`restarted ${replica.name}, ready`);
        }
      }
    } finally {
      stopLoad = true;
      await load;
    }
    phase = 'after';
    const after: Call[] = [];
    for (let i = 0; i < CALLS_AFTER; i++) after.push(await oneCall());
    const durationS = (Date.now() - started) / 1000;

    // What the registry holds for this run, straight from the database.
    const pg = (await import('pg')).default;
    const db = new pg.Client({ connectionString: mesh!.databaseUrl });
    await db.connect();
    let rows: { id: string; asset_sha256: string; title: string }[];
    try {
      rows = (await db.query('select id, asset_sha256, title from assets where project_id = $1', [projectId])).rows;
    } finally {
      await db.end();
    }
    const byTitle = new Map<string, typeof rows>();
    for (const row of rows) byTitle.set(row.title, [...(byTitle.get(row.title) ?? []), row]);
    const signs = calls.filter((c) => c.op === 'Sign');
    const okSigns = signs.filter((c) => c.code === 'ok');
    // Lost: answered with an asset id that the registry does not hold exactly once, as answered.
    const lost = okSigns.filter((c) => {
      const found = byTitle.get(c.title!) ?? [];
      return found.length !== 1 || found[0].id !== c.assetId || found[0].asset_sha256 !== c.assetSha256;
    });
    const duplicates = [...byTitle.entries()].filter(([, r]) => r.length > 1);
    const titles = new Set(signs.map((c) => c.title));
    const strangers = rows.filter((r) => !titles.has(r.title));
    // Signed and registered, but the caller saw an error (the answer was cut off): not lost, since
    // the caller was told to retry; reported.
    const registeredButFailed = signs.filter((c) => c.code !== 'ok' && byTitle.has(c.title!));
    const answeredIds = okSigns.map((c) => c.assetId);

    const row = (label: string, list: Call[]) => {
      const failed = list.filter((c) => c.code !== 'ok');
      const counts = new Map<string, number>();
      for (const c of failed) counts.set(c.code, (counts.get(c.code) ?? 0) + 1);
      const codes = [...counts].map(([k, v]) => `${k}=${v}`).join(' ');
      const ms = list.filter((c) => c.code === 'ok').map((c) => c.ms).sort((a, b) => a - b);
      const median = ms.length ? ms[Math.floor(ms.length / 2)] : '-';
      return { calls: label, made: list.length, succeeded: list.length - failed.length, failed: failed.length, 'failed by code': codes || '-', 'median ok ms': median };
    };
    const phases: Phase[] = ['steady', 'kill', 'rolling restart', 'after'];
    console.log(`multi-host run: ${Object.values(replicas).flat().length} replicas on ${mesh!.lab.hosts.length} hosts, ${durationS.toFixed(1)} s`);
    console.table([
      row('Sign', signs),
      row('Verify', calls.filter((c) => c.op === 'Verify')),
      ...phases.map((p) => row(`phase: ${p}`, calls.filter((c) => c.phase === p))),
      row('all', calls),
    ]);
    console.table([
      {
        'signed (answered)': okSigns.length,
        'registry rows': rows.length,
        lost: lost.length,
        'answered twice / duplicate rows': duplicates.length + (answeredIds.length - new Set(answeredIds).size),
        'registered, caller saw an error': registeredButFailed.length,
        'wrong Verify answers': calls.filter((c) => c.wrong).length,
        'slowest call ms': Math.max(...calls.map((c) => c.ms)),
      },
    ]);

    const messages = new Map<string, number>();
    for (const c of calls.filter((c) => c.message)) messages.set(`${c.op} ${c.code}: ${c.message}`, (messages.get(`${c.op} ${c.code}: ${c.message}`) ?? 0) + 1);
    if (messages.size > 0) console.log(`failures:\n${[...messages].map(([m, n]) => `  ${n} × ${m}`).join('\n')}`);

    expect(calls.filter((c) => c.phase === 'kill' || c.phase === 'rolling restart').length).toBeGreaterThan(20);
    expect(lost).toEqual([]);
    expect(duplicates).toEqual([]);
    expect(new Set(answeredIds).size).toBe(answeredIds.length);
    expect(strangers).toEqual([]);
    expect(calls.filter((c) => c.wrong).map((c) => c.wrong)).toEqual([]);
    // After the restart the mesh is whole again: every call succeeds.
    expect(after.map((c) => c.code)).toEqual(after.map(() => 'ok'));
    expect(Object.values(replicas).flat().every((r) => r.running && r.starts === 2)).toBe(true);
  }, 900_000);
});
