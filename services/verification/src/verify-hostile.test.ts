import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Code, ConnectError } from '@connectrpc/connect';
import { verificationV1 } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerificationTestMesh, type VerificationTestMesh } from './test-support/verification-mesh.js';
import {
  deeplyNestedBmff,
  jpegNestedJumbf,
  jpegWithRemoteManifest,
  oversizedBmffBox,
  pngChunkBomb,
  pngManyManifestChunks,
  tiffDirectoryLoop,
  tiffHugeDirectory,
  wavChunkBomb,
} from './test-support/hostile-media.js';
import { ALL_FIXTURES, readMedia, seededRandom, UNSIGNED_SAMPLES } from './test-support/media.js';

/**
 * Garbage, truncated and bit-flipped versions of every fixture (and of what the mesh signs), and
 * parser-stressing structures: each call answers with a result or an error a person can act on,
 * never `internal`, and the service keeps answering afterwards.
 */

const { ValidationState } = verificationV1;
const ACCEPTABLE = [Code.InvalidArgument, Code.NotFound, Code.FailedPrecondition];

let t: VerificationTestMesh;
const signedAssets = new Map<string, Uint8Array>();
beforeAll(async () => {
  t = await createVerificationTestMesh();
  for (const { file, format } of UNSIGNED_SAMPLES) signedAssets.set(file, (await t.sign(readMedia(file), format)).signedAsset);
});
afterAll(async () => {
  await t?.close();
});

type Outcome = { variant: string; state?: number; matches?: number; code?: Code; message?: string };

async function outcomeOf(variant: string, asset: Uint8Array, format = ''): Promise<Outcome> {
  try {
    const res = await t.verification().verify({ asset, format });
    return { variant, state: res.validationState, matches: res.softBindingMatches.length };
  } catch (error) {
    const e = ConnectError.from(error);
    return { variant, code: e.code, message: e.rawMessage };
  }
}

/** Runs the calls a few at a time, as a busy client would. */
async function outcomes(variants: Array<[string, Uint8Array, string?]>): Promise<Outcome[]> {
  const results: Outcome[] = [];
  for (let i = 0; i < variants.length; i += 4) {
    results.push(...(await Promise.all(variants.slice(i, i + 4).map(([name, bytes, format]) => outcomeOf(name, bytes, format)))));
  }
  return results;
}

function expectHandled(results: Outcome[]) {
  const bad = results.filter((o) =>
    o.code !== undefined
      ? !ACCEPTABLE.includes(o.code) || (o.message ?? '').length < 10
      : // A damaged copy whose manifest is gone but whose pixels still match a signed asset is
        // answered by its soft-binding matches, without a state.
        !([ValidationState.INVALID, ValidationState.VALID, ValidationState.TRUSTED].includes(o.state!) || (o.state === ValidationState.UNSPECIFIED && (o.matches ?? 0) > 0)),
  );
  expect(bad).toEqual([]);
}

function truncations(name: string, bytes: Uint8Array): Array<[string, Uint8Array]> {
  const cuts = [1, 2, 8, 64, 512, 4096, bytes.length >> 2, bytes.length >> 1, (bytes.length * 3) >> 2, bytes.length - 1];
  return [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).map((cut) => [`${name} cut at ${cut}`, bytes.subarray(0, cut)]);
}

function flips(name: string, bytes: Uint8Array, count: number): Array<[string, Uint8Array]> {
  const random = seededRandom(bytes.length * 31 + name.length);
  return Array.from({ length: count }, (_, i) => {
    const altered = bytes.slice();
    // Half the flips in the first 64 KiB, where headers and manifests live.
    const span = i % 2 === 0 ? Math.min(altered.length, 65_536) : altered.length;
    const at = Math.floor(random() * span);
    altered[at] ^= 1 + Math.floor(random() * 255);
    return [`${name} flipped at ${at}`, altered];
  });
}

function garbage(name: string, bytes: Uint8Array): Array<[string, Uint8Array]> {
  const random = seededRandom(bytes.length);
  return [64, 8192].map((length) => {
    const out = new Uint8Array(length);
    out.set(bytes.subarray(0, 16));
    for (let i = 16; i < length; i++) out[i] = Math.floor(random() * 256);
    return [`${name} magic + ${length} random bytes`, out];
  });
}

describe('hostile and damaged assets never give internal', () => {
  it.each(ALL_FIXTURES.map((f) => [f.file]))('%s: truncated, bit-flipped, garbage behind its magic number', async (file) => {
    const original = readMedia(file);
    const results = await outcomes([...truncations(file, original), ...flips(file, original, 8), ...garbage(file, original)]);
    expectHandled(results);
  });

  it.each(UNSIGNED_SAMPLES.map((f) => [f.file]))('%s as signed by the mesh: truncated and bit-flipped', async (file) => {
    const signed = signedAssets.get(file)!;
    const results = await outcomes([...truncations(`signed ${file}`, signed), ...flips(`signed ${file}`, signed, 8)]);
    expectHandled(results);
    // Losing half the file must not read as intact.
    const halved = results.find((o) => o.variant === `signed ${file} cut at ${signed.length >> 1}`)!;
    expect(halved.state).not.toBe(ValidationState.TRUSTED);
  });

  it('parser-stressing structures: deep nesting, chunk bombs, huge directories, loops', async () => {
    const results = await outcomes([
      ['BMFF nested 20000 deep', deeplyNestedBmff(20_000)],
      ['BMFF box of 2^63 bytes', oversizedBmffBox()],
      ['PNG chunk of 2 GiB', pngChunkBomb()],
      ['PNG with 5000 manifest chunks', pngManyManifestChunks(5000)],
      ['TIFF directory of 65535 entries', tiffHugeDirectory()],
      ['TIFF directory loop', tiffDirectoryLoop()],
      ['WAV chunks of 4 GiB', wavChunkBomb()],
      ['JPEG JUMBF nested 8000 deep', jpegNestedJumbf(8000)],
      ['BMFF nested declared as MP4', deeplyNestedBmff(20_000), 'video/mp4'],
    ]);
    expectHandled(results);
  });

  it('a verification that runs past the time limit is deadline_exceeded, and the engine recovers', async () => {
    const impatient = t.verificationWith({ settings: { verifyTimeoutMs: 1 } });
    const asset = signedAssets.get('sample1.m4a')!;
    const results = await Promise.all([1, 2, 3].map(() => impatient.verify({ asset }).then((r) => r.durationMs, (e: unknown) => ConnectError.from(e))));
    for (const err of results) {
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.DeadlineExceeded);
      expect((err as ConnectError).rawMessage).toMatch(/did not finish within 1 ms/);
    }
  });

  it('the service still answers correctly after all of it', async () => {
    const c = await t.verification().verify({ asset: readMedia('C.jpg') });
    expect(c.validationState).toBe(ValidationState.VALID);
    const signed = await t.verification().verify({ asset: signedAssets.get('sample1.png')! });
    expect(signed.validationState).toBe(ValidationState.TRUSTED);
    expect(t.mesh.engine!.stats()).toMatchObject({ threads: 2, queued: 0, running: 0 });
  });
});

describe('no network request from an asset', () => {
  let server: Server;
  let requests = 0;
  let manifestUrl: string;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/c2pa' }).end(Buffer.alloc(1000));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    manifestUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/manifest.c2pa`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('an asset whose manifest lives at a URL gets a clear answer, and the URL is never fetched', async () => {
    const asset = jpegWithRemoteManifest(readMedia('no_manifest.jpg'), manifestUrl);
    const outcome = await outcomeOf('remote manifest', asset);
    expect(outcome.code).toBe(Code.FailedPrecondition);
    expect(outcome.message).toBe(`the asset's manifest is not embedded but refers to ${manifestUrl}; remote manifests are not fetched`);
    expect(requests).toBe(0);
  });
});
