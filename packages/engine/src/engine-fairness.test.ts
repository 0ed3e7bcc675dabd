/**
 * The engine's queue between tenants, its per-tenant bound and the time budget of a job. Order is
 * checked by the order in which jobs reach the one worker, never by how long anything takes.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MeshError } from '@c2pa-mesh/errors';
import { createEngine } from './engine.js';
import type { C2paEngine, ClaimSigner, EngineJobStart, EngineOptions } from './types.js';
import { createTestPki, testClaimSigner, type TestPki } from './test-support/test-pki.js';
import { createdManifest, readMedia, TRAINED_ALGORITHMIC_MEDIA } from './test-support/media-fixtures.js';

let pki: TestPki;
let signedJpeg: Uint8Array;
const engines: C2paEngine[] = [];
const jpeg = readMedia('no_manifest.jpg');

async function engine(options: EngineOptions): Promise<C2paEngine> {
  const created = createEngine({ warmupBytes: 0, ...options });
  engines.push(created);
  await created.warmup();
  return created;
}

beforeAll(async () => {
  pki = await createTestPki('Fairness Test');
  const e = await engine({ threads: 1 });
  signedJpeg = (await e.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: createdManifest('fair'), signer: testClaimSigner(pki) })).signedAsset;
});

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

/** A claim signer that answers only when released, holding its job on the worker until then. */
function heldSigner(): ClaimSigner & { called: Promise<void>; release(): void } {
  const real = testClaimSigner(pki);
  let markCalled!: () => void;
  let release!: () => void;
  const called = new Promise<void>((resolve) => (markCalled = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    alg: real.alg,
    reserveSize: real.reserveSize,
    called,
    release,
    sign: async (claim) => {
      markCalled();
      await released;
      return real.sign(claim);
    },
  };
}

const read = (e: C2paEngine, tenant: string, caller = 'key-1') => e.read({ format: 'image/jpeg', asset: signedJpeg, trustAnchorsPem: pki.root.pem, fairness: { tenant, caller } });

describe('the engine queue between tenants', () => {
  it("starts tenant B's one job second although tenant A queued 20 before it (one worker)", async () => {
    const e = await engine({ threads: 1, maxQueuePerTenant: 32 });
    const started: string[] = [];
    e.onJobStart((job: EngineJobStart) => started.push(job.tenant));
    const a = Array.from({ length: 20 }, () => read(e, 'project-a'));
    const b = read(e, 'project-b');
    const reports = await Promise.all([...a, b]);
    expect(reports.every((r) => r?.validationState === 'Trusted')).toBe(true);
    expect(started).toHaveLength(21);
    expect(started.indexOf('project-b')).toBeLessThanOrEqual(1);
    expect(started.slice(0, 2)).toEqual(['project-a', 'project-b']);
  });

  it('takes turns between the callers of one project as between projects', async () => {
    const e = await engine({ threads: 1, maxQueuePerTenant: 32 });
    const started: string[] = [];
    e.onJobStart((job) => started.push(`${job.tenant}/${job.caller}`));
    const held = heldSigner();
    // The worker is held by a job of the mesh's own, so all of the following wait and are ordered by the queue alone.
    const holding = e.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: createdManifest('hold'), signer: held });
    await held.called;
    const jobs = [
      ...Array.from({ length: 4 }, () => read(e, 'p', 'noisy')),
      read(e, 'p', 'quiet'),
      ...Array.from({ length: 2 }, () => read(e, 'q', 'other')),
    ];
    held.release();
    await Promise.all([holding, ...jobs]);
    expect(started).toEqual(['/', 'p/noisy', 'q/other', 'p/quiet', 'q/other', 'p/noisy', 'p/noisy', 'p/noisy']);
  });

  it("refuses a tenant's job beyond its queue bound with resource_exhausted, not another tenant's", async () => {
    const e = await engine({ threads: 1, maxQueuePerTenant: 3, maxQueue: 32 });
    const held = heldSigner();
    const holding = e.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: createdManifest('hold'), signer: held, fairness: { tenant: 'project-a', caller: 'key-1' } });
    await held.called;
    const queued = Array.from({ length: 3 }, () => read(e, 'project-a'));
    const refused = await read(e, 'project-a').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MeshError);
    expect((refused as MeshError).code).toBe('resource_exhausted');
    expect((refused as MeshError).message).toBe('this project already has 3 C2PA engine jobs waiting, the most one project may queue; retry later, or send fewer calls at once');
    // Another project still gets in, and everything queued runs once the worker is free.
    const other = read(e, 'project-b');
    expect(e.stats()).toMatchObject({ running: 1, queued: 4 });
    held.release();
    const reports = await Promise.all([holding.then(() => null), ...queued, other]);
    expect(reports.slice(1).map((r) => r?.validationState)).toEqual(['Trusted', 'Trusted', 'Trusted', 'Trusted']);
  });

  it('drops a queued job whose caller gives up, and refuses queued jobs when closed', async () => {
    const e = await engine({ threads: 1 });
    const held = heldSigner();
    const holding = e.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: createdManifest('hold'), signer: held }).catch((error: unknown) => error);
    await held.called;
    const abort = new AbortController();
    const givenUp = e.read({ format: 'image/jpeg', asset: signedJpeg, signal: abort.signal, fairness: { tenant: 'p', caller: 'k' } }).catch((error: unknown) => error);
    const left = read(e, 'p').catch((error: unknown) => error);
    expect(e.stats().queued).toBe(2);
    abort.abort(new Error('caller went away'));
    expect(((await givenUp) as Error).message).toBe('caller went away');
    expect(e.stats()).toMatchObject({ queued: 1, terminated: 0 });
    const closing = e.close();
    expect(((await left) as MeshError).code).toBe('unavailable');
    // Closing lets the job on the worker finish.
    held.release();
    expect(await holding).not.toBeInstanceOf(Error);
    await closing;
  });
});

describe('the time budget of a job', () => {
  /** A manifest with enough actions to keep c2pa-rs busy for seconds. */
  const heavyManifest = JSON.stringify({
    title: 'heavy',
    assertions: [
      {
        label: 'c2pa.actions',
        data: {
          actions: [
            { action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA },
            ...Array.from({ length: 30_000 }, (_, i) => ({ action: 'c2pa.edited', parameters: { description: `step ${i}` } })),
          ],
        },
      },
    ],
  });

  it('stops a job over its budget (worker replaced), while a job on the other worker and the next job succeed', async () => {
    const e = await engine({ threads: 2 });
    const over = e.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: heavyManifest, signer: testClaimSigner(pki), budgetMs: 200 }).catch((error: unknown) => error);
    const beside = read(e, 'other');
    const error = (await over) as MeshError;
    expect(error).toBeInstanceOf(MeshError);
    expect(error.code).toBe('resource_exhausted');
    expect(error.message).toMatch(/^the C2PA engine stopped this job after 200 ms, its time budget for one job; .*send a smaller or simpler one/);
    expect((await beside)?.validationState).toBe('Trusted');
    expect(e.stats()).toMatchObject({ overBudget: 1, terminated: 1 });

    const next = await e.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: createdManifest('after'), signer: testClaimSigner(pki) });
    expect((await e.read({ format: 'image/jpeg', asset: next.signedAsset, trustAnchorsPem: pki.root.pem }))?.validationState).toBe('Trusted');
    expect(e.stats().threads).toBe(2);
  });

  it("applies the engine's own budget (taskTimeoutMs) to every job", async () => {
    const e = await engine({ threads: 1, taskTimeoutMs: 200 });
    const error = (await e.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: heavyManifest, signer: testClaimSigner(pki) }).catch((err: unknown) => err)) as MeshError;
    expect(error.code).toBe('resource_exhausted');
    expect(error.details).toEqual({ budgetMs: 200 });
  });
});
