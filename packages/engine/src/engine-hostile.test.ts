import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshError } from '@c2pa-mesh/errors';
import { createEngine } from './engine.js';
import type { C2paEngine } from './types.js';
import { createTestPki, testClaimSigner, type TestPki } from './test-support/test-pki.js';
import { createdManifest, readMedia, seededRandom, UNSIGNED_SAMPLES } from './test-support/media-fixtures.js';

/**
 * Wrong, truncated and bit-flipped assets: the engine answers each with a report or a MeshError a
 * person can act on (never `internal`), and the pool keeps working afterwards.
 */

const ACCEPTABLE_CODES = ['invalid_argument', 'not_found', 'failed_precondition'];

let engine: C2paEngine;
let pki: TestPki;
const signedAssets = new Map<string, Uint8Array>();

beforeAll(async () => {
  engine = createEngine({ threads: 2, taskTimeoutMs: 20_000 });
  [pki] = await Promise.all([createTestPki('Hostile Test'), engine.warmup()]);
  for (const { file, format } of UNSIGNED_SAMPLES) {
    const { signedAsset } = await engine.sign({ format, asset: readMedia(file), manifestDefinition: createdManifest(file), signer: testClaimSigner(pki) });
    signedAssets.set(format, signedAsset);
  }
});

afterAll(async () => {
  await engine.close();
});

type Outcome = { kind: 'report'; state: string } | { kind: 'null' } | { kind: 'error'; code: string; message: string };

async function readOutcome(format: string, asset: Uint8Array): Promise<Outcome> {
  try {
    const report = await engine.read({ format, asset, trustAnchorsPem: pki.root.pem });
    return report === null ? { kind: 'null' } : { kind: 'report', state: report.validationState };
  } catch (error) {
    if (!(error instanceof MeshError)) throw error;
    return { kind: 'error', code: error.code, message: error.message };
  }
}

/** Every outcome a report in a known state, no manifest, or an acceptable error with words. */
function expectHandled(outcomes: Array<{ variant: string; outcome: Outcome }>) {
  const unacceptable = outcomes.filter(({ outcome }) =>
    outcome.kind === 'error'
      ? !ACCEPTABLE_CODES.includes(outcome.code) || outcome.message.length < 10
      : outcome.kind === 'report' && !['Invalid', 'Valid', 'Trusted'].includes(outcome.state),
  );
  expect(unacceptable).toEqual([]);
}

describe.each(UNSIGNED_SAMPLES.map((s) => [s.format]))('hostile %s', (format) => {
  it('truncated at several points: never internal', async () => {
    const signed = signedAssets.get(format)!;
    const cuts = [1, 8, 64, 512, 4096, signed.length >> 2, signed.length >> 1, (signed.length * 3) >> 2, signed.length - 1];
    const outcomes = await Promise.all(cuts.map(async (cut) => ({ variant: `cut ${cut}`, outcome: await readOutcome(format, signed.subarray(0, cut)) })));
    expectHandled(outcomes);
    // Losing the tail of the media (or the manifest) must not read as intact.
    const halved = outcomes.find((o) => o.variant === `cut ${signed.length >> 1}`)!.outcome;
    expect(halved.kind === 'report' ? halved.state : 'not a report').not.toBe('Trusted');
  });

  it('bit-flipped at random places: never internal', async () => {
    const signed = signedAssets.get(format)!;
    const random = seededRandom(format.length * 7919 + signed.length);
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const altered = signed.slice();
        // Half the flips land in the first 64 KiB, where headers and manifests live.
        const span = i % 2 === 0 ? Math.min(altered.length, 65_536) : altered.length;
        const at = Math.floor(random() * span);
        altered[at] ^= 1 + Math.floor(random() * 255);
        return { variant: `flip at ${at}`, outcome: await readOutcome(format, altered) };
      }),
    );
    expectHandled(outcomes);
  });

  it('random bytes behind the right magic number: never internal', async () => {
    const signed = signedAssets.get(format)!;
    const random = seededRandom(signed.length);
    const outcomes = await Promise.all(
      [32, 4096].map(async (length) => {
        const garbage = new Uint8Array(length);
        garbage.set(signed.subarray(0, 16));
        for (let i = 16; i < length; i++) garbage[i] = Math.floor(random() * 256);
        return { variant: `garbage ${length}`, outcome: await readOutcome(format, garbage) };
      }),
    );
    expectHandled(outcomes);
  });

  it('signing a truncated original: signs or says why, never internal', async () => {
    const original = readMedia(UNSIGNED_SAMPLES.find((s) => s.format === format)!.file);
    for (const cut of [64, original.length >> 1]) {
      const outcome = await engine
        .sign({ format, asset: original.subarray(0, cut), manifestDefinition: createdManifest('cut'), signer: testClaimSigner(pki) })
        .then(
          () => 'signed',
          (error: unknown) => (error instanceof MeshError ? error.code : `not a MeshError: ${String(error)}`),
        );
      expect(['signed', ...ACCEPTABLE_CODES]).toContain(outcome);
    }
  });
});

describe('after the hostile inputs', () => {
  it('rejects bytes of no known format by their declared format', async () => {
    const error = await engine.read({ format: 'image/jpeg', asset: new Uint8Array(1000).fill(0x41) }).catch((e: unknown) => e);
    expect((error as MeshError).code).toBe('invalid_argument');
    expect((error as MeshError).message).toBe('declared image/jpeg but the bytes are not a JPEG file (nor any other supported format)');
  });

  it('the pool still signs and verifies', async () => {
    const { signedAsset } = await engine.sign({ format: 'image/png', asset: readMedia('sample1.png'), manifestDefinition: createdManifest('still working'), signer: testClaimSigner(pki) });
    expect((await engine.read({ format: 'image/png', asset: signedAsset, trustAnchorsPem: pki.root.pem }))?.validationState).toBe('Trusted');
    expect(engine.stats()).toMatchObject({ threads: 2, queued: 0, running: 0 });
  });
});
