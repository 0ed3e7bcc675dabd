import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MeshError } from '@c2pa-mesh/errors';
import { createEngine } from './engine.js';
import type { C2paEngine, ClaimSigner } from './types.js';
import { createTestPki, testClaimSigner, type TestPki } from './test-support/test-pki.js';
import { createdManifest, readMedia } from './test-support/media-fixtures.js';

let pki: TestPki;
const engines: C2paEngine[] = [];
const jpeg = readMedia('no_manifest.jpg');
const signedJpeg: { asset?: Uint8Array } = {};

function engine(options: Parameters<typeof createEngine>[0]): C2paEngine {
  const created = createEngine(options);
  engines.push(created);
  return created;
}

beforeAll(async () => {
  pki = await createTestPki('Pool Test');
});

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

/** A claim signer that never answers, like a stalled key service; `called` resolves once asked. */
function stalledSigner(): ClaimSigner & { called: Promise<void> } {
  let markCalled!: () => void;
  const called = new Promise<void>((resolve) => {
    markCalled = resolve;
  });
  return {
    alg: 'es256',
    reserveSize: 20_000,
    called,
    sign: () => {
      markCalled();
      return new Promise<Uint8Array>(() => {});
    },
  };
}

async function signedSample(e: C2paEngine): Promise<Uint8Array> {
  signedJpeg.asset ??= (await e.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: createdManifest('pool'), signer: testClaimSigner(pki) })).signedAsset;
  return signedJpeg.asset;
}

describe('engine worker pool', () => {
  it('warmup resolves once every worker has loaded the engine', async () => {
    const e = engine({ threads: 2 });
    await e.warmup();
    const stats = e.stats();
    expect(stats.threads).toBe(2);
    expect(stats.completed).toBeGreaterThanOrEqual(2);
    expect([stats.queued, stats.running]).toEqual([0, 0]);
  });

  it('warmup signs and reads a generated asset on every worker, unless told to only load', async () => {
    const warmed = engine({ threads: 2, warmupBytes: 256 * 1024 });
    await warmed.warmup();
    // Two pings (at least), then a sign and a read per worker; nothing recycled.
    expect(warmed.stats().completed).toBeGreaterThanOrEqual(2 + 2 * 2);
    expect(warmed.stats().recycled).toBe(0);
    // c2pa-rs's heap held at least the generated asset while signing it.
    expect(warmed.stats().largestMemoryBytes).toBeGreaterThan(256 * 1024);
    // Warm once: a second warm-up only checks that every worker is up.
    const completed = warmed.stats().completed;
    await warmed.warmup();
    expect(warmed.stats().completed - completed).toBeLessThan(2 * 2);

    const loaded = engine({ threads: 2, warmupBytes: 0 });
    await loaded.warmup();
    expect(loaded.stats().completed).toBeLessThan(2 + 2 * 2);
  });

  it('fails fast with resource_exhausted beyond the queue bound, and recovers', async () => {
    const e = engine({ threads: 1, maxQueue: 1 });
    await e.warmup();
    const signed = await signedSample(e);

    const abort = new AbortController();
    const stalled = stalledSigner();
    const blocking = e.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: createdManifest('x'), signer: stalled, signal: abort.signal });
    const blockingSettled = blocking.catch((error: unknown) => error);
    await stalled.called;
    expect(e.stats()).toMatchObject({ running: 1, queued: 0 });

    const waiting = e.read({ format: 'image/jpeg', asset: signed });
    expect(e.stats()).toMatchObject({ running: 1, queued: 1 });

    const refused = await e.read({ format: 'image/jpeg', asset: signed }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MeshError);
    expect((refused as MeshError).code).toBe('resource_exhausted');
    expect((refused as MeshError).message).toBe('engine busy, retry later');

    abort.abort(new Error('client went away'));
    expect(((await blockingSettled) as Error).message).toBe('client went away');
    // The stalled worker was terminated and replaced; the queued read then ran on the new one.
    expect((await waiting)?.validationState).toBe('Valid');
    expect(e.stats()).toMatchObject({ terminated: 1, threads: 1, queued: 0, running: 0 });
  });

  it('times out a stalled task, replaces its worker, and the next call works', async () => {
    // Only the stalled task is meant to meet the 500 ms limit: the warm-up's generated workload
    // (a signed and read WAV) can take longer than that on a busy machine, so workers only start.
    const e = engine({ threads: 1, taskTimeoutMs: 500, warmupBytes: 0 });
    await e.warmup();
    const stalled = stalledSigner();
    const error = await e
      .sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: createdManifest('x'), signer: stalled })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).code).toBe('unavailable');
    expect((error as MeshError).message).toBe(
      "the claim signature (key service, time-stamp, OCSP) did not arrive within the engine's time budget of 500 ms; retry later",
    );
    expect(e.stats().terminated).toBe(1);

    const result = await e.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: createdManifest('after'), signer: testClaimSigner(pki) });
    expect((await e.read({ format: 'image/jpeg', asset: result.signedAsset, trustAnchorsPem: pki.root.pem }))?.validationState).toBe('Trusted');
    expect(e.stats().threads).toBe(1);
  });

  it('rejects a call whose signal is already aborted without touching a worker', async () => {
    const e = engine({ threads: 1 });
    const error = await e.read({ format: 'image/jpeg', asset: jpeg, signal: AbortSignal.abort(new Error('gone')) }).catch((err: unknown) => err);
    expect((error as Error).message).toBe('gone');
    expect(e.stats().terminated).toBe(0);
  });

  it('replaces a worker after a job larger than recycleAfterBytes, without failing queued jobs', async () => {
    const e = engine({ threads: 1, recycleAfterBytes: 200_000 });
    await e.warmup();
    const small = await signedSample(e);
    expect(e.stats().recycled).toBe(0);

    const large = (await e.sign({ format: 'audio/wav', asset: readMedia('sample1.wav'), manifestDefinition: createdManifest('large'), signer: testClaimSigner(pki) })).signedAsset;
    expect(large.length).toBeGreaterThan(200_000);
    expect(e.stats().recycled).toBe(1);

    // Three large reads queued on one thread: each retires its worker, none lands on a retiring one.
    const reports = await Promise.all([1, 2, 3].map(() => e.read({ format: 'audio/wav', asset: large, trustAnchorsPem: pki.root.pem })));
    expect(reports.map((r) => r?.validationState)).toEqual(['Trusted', 'Trusted', 'Trusted']);
    expect(e.stats().recycled).toBe(4);

    // A small job keeps its worker.
    expect((await e.read({ format: 'image/jpeg', asset: small }))?.validationState).toBe('Valid');
    expect(e.stats().recycled).toBe(4);
    await vi.waitFor(() => expect(e.stats().threads).toBe(1));
  });

  it('refuses work once closed', async () => {
    const e = engine({ threads: 1 });
    await e.close();
    const error = await e.read({ format: 'image/jpeg', asset: jpeg }).catch((err: unknown) => err);
    expect((error as MeshError).code).toBe('unavailable');
  });
});
