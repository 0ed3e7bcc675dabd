/**
 * The C2PA engine (c2pa-rs through WebAssembly, on its worker pool), measured on its own: sign and
 * verify times per fixture (0.05–4 MB), a generated 100 MB WAV with and without worker recycling,
 * and two threads against one. Signing uses an in-memory ES256 key, no time-stamp or OCSP, so the
 * numbers are the engine's own.
 *
 *   node --import tsx bench/engine.ts [--iterations 15] [--large-mb 100]
 *
 * Prints a markdown report and writes it to bench/results/engine.md.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initSync, WasmBuilder, WasmReader } from '@contentauth/c2pa-wasm';
import { createEngine, engineSettings, type C2paEngine } from '@c2pa-mesh/engine';
import { InMemoryBlob, installFileReaderSync } from '../packages/engine/src/file-reader-sync.js';
import { toneWav } from '../packages/engine/src/warmup-workload.js';
import { createTestPki, testClaimSigner } from '../packages/engine/src/test-support/test-pki.js';
import { createdManifest, readMedia, UNSIGNED_SAMPLES } from '../packages/engine/src/test-support/media-fixtures.js';
import { arg, log, MB, ms, percentile } from './support.js';

const ITERATIONS = arg('--iterations', 15);
const LARGE_MB = arg('--large-mb', 100);
const LARGE_ITERATIONS = 3;

const pki = await createTestPki('Engine Bench');
const trustAnchorsPem = pki.root.pem;
const manifest = createdManifest('engine benchmark');

const mb = (bytes: number) => (bytes / MB).toFixed(bytes < MB ? 2 : 1);

/** Samples process RSS (main thread, workers and their WebAssembly memory) while work runs. */
function rssMonitor() {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 25);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await work();
  return { ms: performance.now() - start, value };
}

async function signOnce(engine: C2paEngine, format: string, asset: Uint8Array) {
  return engine.sign({ format, asset, manifestDefinition: manifest, signer: testClaimSigner(pki) });
}

// 1. Per fixture, on a one-thread pool (the time one request waits for the engine).
interface FixtureRow {
  file: string;
  format: string;
  bytes: number;
  signP50: number;
  signP95: number;
  verifyP50: number;
  verifyP95: number;
}
const fixtureRows: FixtureRow[] = [];
const single = createEngine({ threads: 1 });
await single.warmup();
const fixtureRss = rssMonitor();
for (const { file, format } of [...UNSIGNED_SAMPLES].sort((a, b) => readMedia(a.file).length - readMedia(b.file).length)) {
  const asset = readMedia(file);
  const signTimes: number[] = [];
  const verifyTimes: number[] = [];
  let signed = (await signOnce(single, format, asset)).signedAsset;
  await single.read({ format, asset: signed, trustAnchorsPem });
  for (let i = 0; i < ITERATIONS; i++) {
    const s = await timed(() => signOnce(single, format, asset));
    signTimes.push(s.ms);
    signed = s.value.signedAsset;
    const v = await timed(() => single.read({ format, asset: signed, trustAnchorsPem }));
    if (v.value?.validationState !== 'Trusted') throw new Error(`${file} read back ${v.value?.validationState}`);
    verifyTimes.push(v.ms);
  }
  const row = {
    file,
    format,
    bytes: asset.length,
    signP50: percentile(signTimes, 50),
    signP95: percentile(signTimes, 95),
    verifyP50: percentile(verifyTimes, 50),
    verifyP95: percentile(verifyTimes, 95),
  };
  fixtureRows.push(row);
  log(`${file}: sign p50 ${ms(row.signP50)} ms, verify p50 ${ms(row.verifyP50)} ms`);
}
const fixturePeakRss = fixtureRss.stop();
await single.close();

// 2. The same engine called directly on this thread: what the pool adds (copies, messages).
installFileReaderSync();
initSync({ module: readFileSync(createRequire(import.meta.url).resolve('@contentauth/c2pa-wasm/c2pa.wasm')) });
const inThreadRows: Array<{ file: string; signP50: number; verifyP50: number }> = [];
for (const { file, format } of UNSIGNED_SAMPLES.filter((s) => s.file === 'no_manifest.jpg' || s.file === 'sample1.m4a')) {
  const asset = readMedia(file);
  const signer = testClaimSigner(pki);
  const definition = { alg: signer.alg, reserveSize: signer.reserveSize, sign: (claim: Uint8Array) => signer.sign(claim) as Promise<Uint8Array<ArrayBuffer>> };
  const signTimes: number[] = [];
  const verifyTimes: number[] = [];
  for (let i = 0; i < ITERATIONS + 2; i++) {
    const s = await timed(async () => {
      const builder = WasmBuilder.fromJson(manifest, engineSettings());
      try {
        return await builder.sign(definition, [], format, new InMemoryBlob(asset).asBlob());
      } finally {
        builder.free();
      }
    });
    const v = await timed(async () => {
      const reader = await WasmReader.fromBytes(format, s.value, engineSettings({ trustAnchorsPem }));
      try {
        return reader.json();
      } finally {
        reader.free();
      }
    });
    if (i >= 2) {
      signTimes.push(s.ms);
      verifyTimes.push(v.ms);
    }
  }
  inThreadRows.push({ file, signP50: percentile(signTimes, 50), verifyP50: percentile(verifyTimes, 50) });
}

// 3. A large WAV, generated here: with recycling (every job over 32 MiB gets a fresh worker,
//    memory returned) and without (one instance keeps growing and reuses its memory).
const largeWav = toneWav(LARGE_MB * MB);
interface LargeRun {
  label: string;
  sign: number[];
  verify: number[];
  peakRss: number;
  recycled: number;
}
const largeRuns: LargeRun[] = [];
for (const [label, recycleAfterBytes] of [
  ['recycling after 32 MiB (default)', 32 * MB],
  ['no recycling', Number.POSITIVE_INFINITY],
] as const) {
  const engine = createEngine({ threads: 1, recycleAfterBytes, taskTimeoutMs: 300_000 });
  await engine.warmup();
  const rss = rssMonitor();
  const sign: number[] = [];
  const verify: number[] = [];
  for (let i = 0; i < LARGE_ITERATIONS; i++) {
    const s = await timed(() => signOnce(engine, 'audio/wav', largeWav));
    sign.push(s.ms);
    const v = await timed(() => engine.read({ format: 'audio/wav', asset: s.value.signedAsset, trustAnchorsPem }));
    if (v.value?.validationState !== 'Trusted') throw new Error(`large WAV read back ${v.value?.validationState}`);
    verify.push(v.ms);
    log(`${LARGE_MB} MB WAV, ${label}: sign ${ms(s.ms)} ms, verify ${ms(v.ms)} ms`);
  }
  largeRuns.push({ label, sign, verify, peakRss: rss.stop(), recycled: engine.stats().recycled });
  await engine.close();
}

// 4. Two threads against one: a burst of 1 MB WAV signings.
const burstAsset = readMedia('sample1.wav');
const BURST = 16;
const burst: Array<{ threads: number; ms: number }> = [];
for (const threads of [1, 2]) {
  const engine = createEngine({ threads });
  await engine.warmup();
  await Promise.all(Array.from({ length: threads }, () => signOnce(engine, 'audio/wav', burstAsset)));
  const t = await timed(() => Promise.all(Array.from({ length: BURST }, () => signOnce(engine, 'audio/wav', burstAsset))));
  burst.push({ threads, ms: t.ms });
  await engine.close();
}

const rssAtEnd = process.memoryUsage().rss;
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const report = `# C2PA engine benchmark

c2pa-rs 0.91 (\`@contentauth/c2pa-wasm\` 0.13.3) on the engine's piscina worker pool. Node ${process.version},
${cpu} (${os.cpus().length} cores), ${new Date().toISOString().slice(0, 10)}, load average ${os.loadavg()[0].toFixed(2)} at the end.
Run with \`node --import tsx bench/engine.ts\`. Signing: ES256 key in memory, manifest with a
c2pa.created action and a CreativeWork assertion, no time-stamp or OCSP (those are the PKI's
numbers, see pki.md). Verify: full validation with the test root as trust anchor (reads Trusted).

## Per fixture, one worker thread, ${ITERATIONS} runs each

| fixture | format | size (MB) | sign p50 (ms) | sign p95 (ms) | verify p50 (ms) | verify p95 (ms) | sign MB/s at p50 |
|---|---|---:|---:|---:|---:|---:|---:|
${fixtureRows
  .map((r) => `| ${r.file} | ${r.format} | ${mb(r.bytes)} | ${ms(r.signP50)} | ${ms(r.signP95)} | ${ms(r.verifyP50)} | ${ms(r.verifyP95)} | ${(r.bytes / MB / (r.signP50 / 1000)).toFixed(0)} |`)
  .join('\n')}

Peak process RSS over these runs: ${mb(fixturePeakRss)} MB.

What the pool adds (the same calls made directly on the main thread, p50):

| fixture | sign in thread (ms) | sign via pool (ms) | verify in thread (ms) | verify via pool (ms) |
|---|---:|---:|---:|---:|
${inThreadRows
  .map((r) => {
    const pooled = fixtureRows.find((f) => f.file === r.file)!;
    return `| ${r.file} | ${ms(r.signP50)} | ${ms(pooled.signP50)} | ${ms(r.verifyP50)} | ${ms(pooled.verifyP50)} |`;
  })
  .join('\n')}

## A generated ${LARGE_MB} MB WAV, one worker thread, ${LARGE_ITERATIONS} runs each

| worker policy | sign runs (ms) | verify runs (ms) | sign p50 (ms) | verify p50 (ms) | peak RSS (MB) | workers recycled |
|---|---|---|---:|---:|---:|---:|
${largeRuns
  .map((r) => `| ${r.label} | ${r.sign.map(ms).join(', ')} | ${r.verify.map(ms).join(', ')} | ${ms(percentile(r.sign, 50))} | ${ms(percentile(r.verify, 50))} | ${mb(r.peakRss)} | ${r.recycled} |`)
  .join('\n')}

RSS after all pools closed: ${mb(rssAtEnd)} MB.

## Burst of ${BURST} signings of sample1.wav (1 MB), all submitted at once

| threads | wall time (ms) | signings/s |
|---:|---:|---:|
${burst.map((b) => `| ${b.threads} | ${ms(b.ms)} | ${(BURST / (b.ms / 1000)).toFixed(1)} |`).join('\n')}

- Times are per call as the caller sees them: the copy of the asset to the worker, the engine's
  work, the claim signature round trip to the calling thread, and the copy back.
- With recycling, each large job runs on a fresh WebAssembly instance whose memory grows from
  nothing while it works, then the thread is replaced and its memory returned. Without it, one
  instance keeps the memory of its largest job for good (WebAssembly memory never shrinks).
`;

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'engine.md');
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, report);
process.stdout.write(report);
