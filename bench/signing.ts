/**
 * The Signing service against the bare engine, side by side in one run:
 *
 * 1. `Sign` of a 1 MiB JPEG over mTLS (Connect, HTTP/2, binary) against a mesh started as
 *    `npm start` does, interleaved with the bare engine call on the same JPEG in this process:
 *    with an in-memory ES256 key only, and with the same long-term validation material the
 *    service embeds (RFC 3161 token from an in-process TSA, OCSP staple) but no RPC, registry
 *    or TLS. p50 of each and the ratios.
 * 2. Throughput of `Sign` with 8 concurrent clients (one TLS connection each) against 1.
 * 3. A generated 100 MiB WAV through `SignStream` (1 MiB chunks both ways), several calls on the
 *    freshly started mesh: the time of every call, the first included, and the peak RSS growth of
 *    the mesh process during each call; then the bare engine on the same WAV in this process.
 *
 *   node --import tsx bench/signing.ts [--iterations 40] [--throughput-ms 8000] [--large-mb 100] [--large-runs 3]
 *   npm run bench -- --only signing
 *
 * Prints a markdown report and writes it to bench/results/signing.md.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { buildCoseSign1, claimSignatureReserveSize, createEngine, type ClaimSigner } from '@c2pa-mesh/engine';
import { createOcspResponder, createTimeStampAuthority, ocspCertIdFor } from '@c2pa-mesh/pki';
import { RegistryService, SigningService, signingV1 } from '@c2pa-mesh/proto';
import { createTestPki, testClaimSigner } from '../packages/engine/src/test-support/test-pki.js';
import { createTestHierarchy } from '../packages/pki/src/testing.js';
import { meshClient } from '../test/support/mesh-clients.js';
import { FIXTURES, startMeshProcess } from '../test/support/start-mesh.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ITERATIONS = arg('--iterations', 40);
const THROUGHPUT_MS = arg('--throughput-ms', 8000);
const LARGE_MB = arg('--large-mb', 100);
const LARGE_RUNS = arg('--large-runs', 3);
const MB = 1024 * 1024;
const CLIENTS = 8;

const log = (line: string) => process.stderr.write(`${line}\n`);
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const mib = (bytes: number) => (bytes / MB).toFixed(1);
const TRAINED = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
const manifestJson = (title: string) =>
  JSON.stringify({ title, assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED }] } }] });

/**
 * A 1 MiB JPEG: the fixture photo with comment (COM) segments of random bytes after SOI. A valid
 * JPEG of that size (no encoder is at hand to make a larger picture); c2pa-rs hashes every byte
 * outside its own manifest, so its work grows with the file as it does for a larger photo.
 */
function jpegOfOneMebibyte(): Uint8Array {
  const photo = readFileSync(path.join(FIXTURES, 'no_manifest.jpg'));
  const segments: Buffer[] = [];
  let size = photo.length;
  while (size < MB) {
    const payload = Math.min(65_533, MB - size - 4);
    if (payload <= 0) break;
    const segment = Buffer.alloc(4 + payload);
    segment.writeUInt16BE(0xfffe, 0);
    segment.writeUInt16BE(payload + 2, 2);
    randomBytes(payload).copy(segment, 4);
    segments.push(segment);
    size += segment.length;
  }
  return new Uint8Array(Buffer.concat([photo.subarray(0, 2), ...segments, photo.subarray(2)]));
}

/** A PCM WAV of `megabytes` MiB: one second of a 440 Hz tone, repeated. */
function generatedWav(megabytes: number): Uint8Array {
  const dataBytes = megabytes * MB - 44;
  const wav = Buffer.alloc(44 + dataBytes);
  wav.write('RIFF', 0, 'latin1');
  wav.writeUInt32LE(36 + dataBytes, 4);
  wav.write('WAVEfmt ', 8, 'latin1');
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(2, 22);
  wav.writeUInt32LE(48_000, 24);
  wav.writeUInt32LE(48_000 * 4, 28);
  wav.writeUInt16LE(4, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36, 'latin1');
  wav.writeUInt32LE(dataBytes, 40);
  const second = Buffer.alloc(48_000 * 4);
  for (let i = 0; i < 48_000; i++) {
    const sample = Math.round(Math.sin((2 * Math.PI * 440 * i) / 48_000) * 12_000);
    second.writeInt16LE(sample, i * 4);
    second.writeInt16LE(sample, i * 4 + 2);
  }
  for (let at = 44; at < wav.length; at += second.length) second.copy(wav, at, 0, Math.min(second.length, wav.length - at));
  return new Uint8Array(wav.buffer, wav.byteOffset, wav.length);
}

/** Resident set of a process (the mesh, or this one), sampled every 10 ms while work runs. */
async function rssOf(pid: number | 'self'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}
function rssMonitor(pid: number | 'self') {
  let peak = 0;
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(async () => {
      peak = Math.max(peak, await rssOf(pid));
    });
  }, 10);
  return {
    async stop() {
      clearInterval(timer);
      await sampling;
      return Math.max(peak, await rssOf(pid));
    },
  };
}

const elapsed = async <T>(work: () => Promise<T>) => {
  const start = performance.now();
  const value = await work();
  return { ms: performance.now() - start, value };
};

/**
 * The claim signer of the bare engine call with the material the service embeds: an in-memory
 * key, an RFC 3161 token from a TSA in this process, a pre-built OCSP staple.
 */
async function longTermValidationSigner(): Promise<() => ClaimSigner> {
  const h = await createTestHierarchy('ES256');
  const tsa = createTimeStampAuthority({ tsaCertificateDer: h.tsa.certificate.der, chainDer: [h.intermediate.certificate.der], signer: h.tsa.signer, policyOid: '1.3.6.1.4.1.99999.1.1' });
  const responder = createOcspResponder({ responderCertificateDer: h.ocspResponder.certificate.der, signer: h.ocspResponder.signer, issuerCertificateDer: h.intermediate.certificate.der });
  const ocsp = await responder.buildResponse({
    responses: [{ certId: ocspCertIdFor(h.signing.certificate.der, h.intermediate.certificate.der), status: { status: 'good' } }],
    thisUpdate: new Date(Date.now() - 60_000),
    nextUpdate: new Date(Date.now() + 3_600_000),
  });
  const chain = [h.signing.certificate.der, h.intermediate.certificate.der];
  const reserveSize = claimSignatureReserveSize({ alg: 'es256', certificateChainDer: chain, timeStamp: true, ocspResponseLength: ocsp.length });
  return () => ({
    alg: 'es256',
    reserveSize,
    sign: (claim) =>
      buildCoseSign1({
        alg: 'es256',
        certificateChainDer: chain,
        claim,
        signSigStructure: (data) => h.signing.signer.sign(data, { ecdsaEncoding: 'ieee-p1363' }),
        timeStamp: async (data) => (await tsa.timestamp({ hashAlgorithm: 'sha256', messageImprint: createHash('sha256').update(data).digest() })).token,
        ocspResponses: [ocsp],
        reserveSize,
      }),
  });
}

// ---------------------------------------------------------------------------------------------
log('starting the mesh (npm start) ...');
const mesh = await startMeshProcess({ env: { LOG_LEVEL: 'warn' } });
const pid = mesh.child.pid!;
const credentials = { caPath: mesh.files.meshCa, certPath: mesh.files.adminCert, keyPath: mesh.files.adminKey };
const { projectId } = await meshClient(RegistryService, mesh.url, credentials).createProject({ name: 'signing benchmark' });
const jpeg = jpegOfOneMebibyte();
const engine = createEngine({ threads: 1 });
const pki = await createTestPki('Signing Bench');
const ltvSigner = await longTermValidationSigner();
await engine.warmup();

try {
  // 1. Sign of a 1 MiB JPEG over mTLS against the bare engine call, interleaved.
  const client = meshClient(SigningService, mesh.url, credentials);
  const request = { asset: jpeg, format: 'image/jpeg', manifestJson: manifestJson('benchmark JPEG'), projectId };
  const bare = () => engine.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: manifestJson('benchmark JPEG'), signer: testClaimSigner(pki) });
  const bareLtv = () => engine.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: manifestJson('benchmark JPEG'), signer: ltvSigner() });
  // Warm every path (connections, JIT, caches) before measuring; check the output once.
  for (let i = 0; i < 5; i++) await Promise.all([client.sign(request), bare(), bareLtv()]);
  const check = await engine.read({ format: 'image/jpeg', asset: (await client.sign(request)).signedAsset, trustAnchorsPem: await readFile(mesh.files.c2paRoot, 'utf8') });
  if (check?.validationState !== 'Trusted') throw new Error(`the service's output read ${check?.validationState}`);
  const serviceTimes: number[] = [];
  const bareTimes: number[] = [];
  const bareLtvTimes: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    serviceTimes.push((await elapsed(() => client.sign(request))).ms);
    bareTimes.push((await elapsed(bare)).ms);
    bareLtvTimes.push((await elapsed(bareLtv)).ms);
  }
  const serviceP50 = percentile(serviceTimes, 50);
  const bareP50 = percentile(bareTimes, 50);
  const bareLtvP50 = percentile(bareLtvTimes, 50);
  log(`1 MiB JPEG: service Sign p50 ${ms(serviceP50)} ms, bare engine p50 ${ms(bareP50)} ms (×${(serviceP50 / bareP50).toFixed(2)}), with time-stamp and staple ${ms(bareLtvP50)} ms (×${(serviceP50 / bareLtvP50).toFixed(2)})`);

  // 2. Throughput: 8 clients, each on its own TLS connection, against 1.
  async function throughput(clients: number) {
    const callers = Array.from({ length: clients }, () => meshClient(SigningService, mesh.url, credentials));
    await Promise.all(callers.map((c) => c.sign(request)));
    let completed = 0;
    const deadline = performance.now() + THROUGHPUT_MS;
    const start = performance.now();
    await Promise.all(
      callers.map(async (c) => {
        while (performance.now() < deadline) {
          await c.sign(request);
          completed++;
        }
      }),
    );
    return completed / ((performance.now() - start) / 1000);
  }
  const single = await throughput(1);
  const eight = await throughput(CLIENTS);
  log(`throughput: 1 client ${single.toFixed(1)}/s, ${CLIENTS} clients ${eight.toFixed(1)}/s, ×${(eight / single).toFixed(2)}`);

  // 3. A large WAV through SignStream.
  const wav = generatedWav(LARGE_MB);
  const wavSha256 = `sha256:${createHash('sha256').update(wav).digest('hex')}`;
  const streamClient = meshClient(SigningService, mesh.url, credentials, 'grpc');
  const largeRuns: Array<{ ms: number; rssBefore: number; peakGrowth: number; signedBytes: number }> = [];
  for (let run = 0; run < LARGE_RUNS; run++) {
    const rssBefore = await rssOf(pid);
    const monitor = rssMonitor(pid);
    const { ms: took, value } = await elapsed(async () => {
      async function* upload() {
        yield create(signingV1.SignStreamRequestSchema, {
          payload: { case: 'options', value: create(signingV1.SignStreamOptionsSchema, { format: 'audio/wav', manifestJson: manifestJson('large WAV'), projectId, totalSize: BigInt(wav.length) }) },
        });
        for (let at = 0; at < wav.length; at += MB) yield create(signingV1.SignStreamRequestSchema, { payload: { case: 'chunk', value: wav.subarray(at, at + MB) } });
      }
      let bytes = 0;
      let result: signingV1.SignStreamResult | undefined;
      for await (const message of streamClient.signStream(upload())) {
        if (message.payload.case === 'chunk') bytes += message.payload.value.length;
        else if (message.payload.case === 'result') result = message.payload.value;
      }
      if (result?.inputSha256 !== wavSha256 || Number(result.sizeBytes) !== bytes) throw new Error('SignStream returned an unexpected result');
      return bytes;
    });
    const peak = await monitor.stop();
    largeRuns.push({ ms: took, rssBefore, peakGrowth: peak - rssBefore, signedBytes: value });
    log(`${LARGE_MB} MiB WAV run ${run + 1}: ${ms(took)} ms, mesh RSS ${mib(rssBefore)} → peak ${mib(peak)} MiB (growth ${(peak - rssBefore) / wav.length}× the asset)`);
    // Let the recycled engine worker be replaced and its memory returned before the next call.
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }

  // The bare engine on the same WAV, in this process (mesh idle): what the engine alone needs.
  // Each call gets its own copy, moved to the worker as the service moves a streamed upload.
  const bareLarge: Array<{ ms: number; peakGrowth: number }> = [];
  for (let run = 0; run < LARGE_RUNS; run++) {
    const copy = wav.slice();
    const rssBefore = await rssOf('self');
    const monitor = rssMonitor('self');
    const { ms: took } = await elapsed(() => engine.sign({ format: 'audio/wav', asset: copy, manifestDefinition: manifestJson('large WAV'), signer: ltvSigner(), transferAsset: true }));
    // The copy existed before the call: it counts once, as the service's receive buffer does.
    const peak = await monitor.stop();
    bareLarge.push({ ms: took, peakGrowth: peak - rssBefore + wav.length });
    log(`bare engine ${LARGE_MB} MiB WAV run ${run + 1}: ${ms(took)} ms, growth ${((peak - rssBefore + wav.length) / wav.length).toFixed(2)}× the asset`);
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }
  await engine.close();

  // Report.
  const ratio = serviceP50 / bareP50;
  const ratioLtv = serviceP50 / bareLtvP50;
  const speedup = eight / single;
  const worstLarge = Math.max(...largeRuns.map((r) => r.ms));
  const worstGrowth = Math.max(...largeRuns.map((r) => r.peakGrowth)) / wav.length;
  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const report = `# Signing service benchmark

Node ${process.version}, ${cpu} (${os.cpus().length} cores), ${new Date().toISOString().slice(0, 10)}, load average
${os.loadavg()[0].toFixed(2)} at the end. Run with \`node --import tsx bench/signing.ts\` (or \`npm run bench -- signing\`).
The mesh runs as \`npm start\` runs it (one process, embedded PGlite database, engine pool of 2
threads, LOG_LEVEL=warn) and is called over mTLS with the admin client certificate; the bare
engine runs in the benchmark's process on one worker thread with an in-memory ES256 key.

## Targets

| target | measured | |
|---|---|---|
| service \`Sign\` of a 1 MiB JPEG over mTLS, p50 within 1.5× the bare engine call (in-memory key only) | ${ms(serviceP50)} ms vs ${ms(bareP50)} ms: **${ratio.toFixed(2)}×** | ${verdict(ratio <= 1.5)} |
| the same, against the bare engine call with the same time-stamp and OCSP staple made in-process | ${ms(serviceP50)} ms vs ${ms(bareLtvP50)} ms: **${ratioLtv.toFixed(2)}×** | ${verdict(ratioLtv <= 1.5)} |
| throughput with ${CLIENTS} concurrent clients at least 1.6× one client | ${eight.toFixed(1)}/s vs ${single.toFixed(1)}/s: **${speedup.toFixed(2)}×** | ${verdict(speedup >= 1.6)} |
| ${LARGE_MB} MiB asset: every call, the first included, within 2 s | slowest of ${LARGE_RUNS}: **${ms(worstLarge)} ms** | ${verdict(worstLarge <= 2000)} |
| ${LARGE_MB} MiB asset: peak RSS growth under 4× the asset | largest: **${worstGrowth.toFixed(2)}×** | ${verdict(worstGrowth < 4)} |

## 1 MiB JPEG, ${ITERATIONS} calls each, interleaved

| path | p50 (ms) | p95 (ms) | min (ms) |
|---|---:|---:|---:|
| service \`Sign\` over mTLS (Connect, HTTP/2, binary) | ${ms(serviceP50)} | ${ms(percentile(serviceTimes, 95))} | ${ms(Math.min(...serviceTimes))} |
| bare engine call (\`engine.sign\`, in-memory key) | ${ms(bareP50)} | ${ms(percentile(bareTimes, 95))} | ${ms(Math.min(...bareTimes))} |
| bare engine call with an in-process RFC 3161 token and OCSP staple | ${ms(bareLtvP50)} | ${ms(percentile(bareLtvTimes, 95))} | ${ms(Math.min(...bareLtvTimes))} |

The service call adds, on top of the engine's work: the asset both ways over TLS, the project
and signer lookups, the OCSP staple, the claim signature by the CA's held key (SignData), the
RFC 3161 time-stamp, SHA-256 of input and output, the registry record, and an audit event for
the call and for each of the internal calls.

## Throughput, ${THROUGHPUT_MS / 1000} s each, 1 MiB JPEG

| clients | signed/s |
|---:|---:|
| 1 | ${single.toFixed(1)} |
| ${CLIENTS} | ${eight.toFixed(1)} |

## ${LARGE_MB} MiB WAV through \`SignStream\` (1 MiB chunks both ways, gRPC)

| call | time (ms) | mesh RSS before (MiB) | peak growth (MiB) | growth / asset |
|---:|---:|---:|---:|---:|
${largeRuns.map((r, i) => `| ${i + 1} | ${ms(r.ms)} | ${mib(r.rssBefore)} | ${mib(r.peakGrowth)} | ${(r.peakGrowth / wav.length).toFixed(2)}× |`).join('\n')}

The bare engine on the same WAV in the benchmark's process (one worker thread, the asset moved
to it, in-process time-stamp and staple), counting the asset once as the service's receive
buffer counts:

| call | time (ms) | peak growth (MiB) | growth / asset |
|---:|---:|---:|---:|
${bareLarge.map((r, i) => `| ${i + 1} | ${ms(r.ms)} | ${mib(r.peakGrowth)} | ${(r.peakGrowth / wav.length).toFixed(2)}× |`).join('\n')}
`;
  process.stdout.write(report);
  const resultsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(path.join(resultsDir, 'signing.md'), report);
} finally {
  await engine.close();
  await mesh.stop();
}
