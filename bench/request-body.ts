/**
 * The TLS listener's unary body reader against the body Connect's Node adapter gives a handler,
 * side by side in one run: the issue asks to use the adapter (with `contextValues`) unless a
 * benchmark shows why not. Two listeners in one child process, identical but for that (the
 * mesh's own `startTlsListener`, one with `connectUnaryBody`), serving a `Sign` that answers
 * with the asset it was sent: 1 MiB in and out over mTLS-capable HTTP/2 with no engine, so only
 * the transport's cost is measured. Calls alternate between the two; the child's CPU per call is
 * what each costs, whatever else runs on the machine.
 *
 *   node --import tsx bench/request-body.ts [--iterations 200] [--mb 1]
 *   npm run bench -- --only request-body
 *
 * Prints a markdown report and writes it to bench/results/request-body.md.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { SigningService, signingV1 } from '@c2pa-mesh/proto';
import { startTlsListener } from '@c2pa-mesh/server';
import { pino } from 'pino';
import { arg, cpuOf, elapsed, log, MB, ms, percentile } from './support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ITERATIONS = arg('--iterations', 200);
const SIZE = Math.round(arg('--mb', 1) * MB);

/** The child: two listeners, their URLs on stdout, until stdin closes. */
async function serve(dir: string): Promise<void> {
  const [certificatePem, privateKeyPem] = await Promise.all([readFile(path.join(dir, 'cert.pem'), 'utf8'), readFile(path.join(dir, 'key.pem'), 'utf8')]);
  const routes = (router: Parameters<Parameters<typeof startTlsListener>[0]['routes']>[0]) =>
    router.service(SigningService, { sign: (req) => create(signingV1.SignResponseSchema, { signedAsset: req.asset }) });
  const common = { host: '127.0.0.1', port: 0, certificatePem, privateKeyPem, clientCaPem: certificatePem, routes, interceptors: [], logger: pino({ level: 'warn' }), readMaxBytes: 64 * MB };
  const reader = await startTlsListener(common);
  const adapter = await startTlsListener({ ...common, connectUnaryBody: true });
  process.stdout.write(`${JSON.stringify({ reader: reader.url, adapter: adapter.url })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void Promise.all([reader.close(0), adapter.close(0)]).then(() => process.exit(0)));
}

if (process.argv.includes('--serve')) {
  await serve(process.argv[process.argv.indexOf('--serve') + 1]);
} else {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'request-body-bench-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    const urls = await new Promise<{ reader: string; adapter: string }>((resolve, reject) => {
      let text = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        text += chunk;
        if (text.includes('\n')) resolve(JSON.parse(text));
      });
      child.once('exit', (code) => reject(new Error(`the listeners exited (${code})`)));
    });
    const loadAtStart = os.loadavg()[0];
    const ca = await readFile(path.join(dir, 'cert.pem'));
    const asset = new Uint8Array(SIZE).map((_, i) => (i * 31) & 0xff);
    const clientsOf = (baseUrl: string) => ({
      binary: createClient(SigningService, createConnectTransport({ baseUrl, httpVersion: '2', useBinaryFormat: true, nodeOptions: { ca } })),
      grpc: createClient(SigningService, createGrpcTransport({ baseUrl, nodeOptions: { ca } })),
    });
    const variants = { reader: clientsOf(urls.reader), adapter: clientsOf(urls.adapter) };
    type Row = { times: number[]; cpu: number };
    const rows: Record<string, Row> = {};
    const request = { asset, format: 'image/jpeg' };
    const call = async (name: string, sign: () => Promise<signingV1.SignResponse>) => {
      const row = (rows[name] ??= { times: [], cpu: 0 });
      const before = await cpuOf(child.pid!);
      const { ms: took, value } = await elapsed(sign);
      row.cpu += (await cpuOf(child.pid!)) - before;
      row.times.push(took);
      if (value.signedAsset.length !== SIZE) throw new Error('the echo came back short');
    };
    // Warm both (connections, JIT), then alternate so that load changes touch both alike.
    for (let i = 0; i < 20; i++) for (const c of Object.values(variants)) for (const client of Object.values(c)) await client.sign(request);
    for (let i = 0; i < ITERATIONS; i++) {
      for (const [variant, c] of Object.entries(variants)) {
        await call(`${variant} Connect binary`, () => c.binary.sign(request));
        await call(`${variant} gRPC`, () => c.grpc.sign(request));
      }
    }
    child.stdin!.end();
    const loadAtEnd = os.loadavg()[0];
    const label: Record<string, string> = { reader: "the listener's unary body reader (`unaryRequestBody`)", adapter: "Connect's adapter body (`universalRequestFromNodeRequest`'s stream)" };
    const table = Object.entries(rows)
      .map(([name, row]) => {
        const [variant, ...protocol] = name.split(' ');
        return `| ${label[variant]} | ${protocol.join(' ')} | ${ms(percentile(row.times, 50))} | ${ms(percentile(row.times, 95))} | ${ms(row.cpu / ITERATIONS)} |`;
      })
      .join('\n');
    const cpuOfRow = (name: string) => rows[name]!.cpu / ITERATIONS;
    const ratios = ['Connect binary', 'gRPC'].map((p) => `${p}: ${(cpuOfRow(`adapter ${p}`) / cpuOfRow(`reader ${p}`)).toFixed(2)}×`).join(', ');
    log(`server CPU per call, adapter body / body reader: ${ratios}`);
    const report = `# The TLS listener's unary body reader against Connect's adapter body

Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), ${new Date().toISOString().slice(0, 10)}, load average
${loadAtStart.toFixed(2)} at the start and ${loadAtEnd.toFixed(2)} at the end (a shared machine: compare the CPU per call, not wall times).
Run with \`node --import tsx bench/request-body.ts --iterations ${ITERATIONS}\` (or \`npm run bench -- --only request-body\`).

Two listeners in one process, both \`startTlsListener\` (TLS, HTTP/2, no interceptors), serving a
\`Sign\` that answers with the ${ms(SIZE / MB)} MiB asset it was sent; one reads unary bodies with
\`unaryRequestBody\`, the other with the body Connect's Node adapter gives a handler. ${ITERATIONS} calls
each, alternating. CPU per call is the server process's CPU time (all threads, 10 ms ticks summed
over the calls) divided by the calls.

| request body | protocol | p50 (ms) | p95 (ms) | server CPU per call (ms) |
|---|---|---:|---:|---:|
${table}

Server CPU per call with the adapter's body, against the body reader: ${ratios}.
`;
    await mkdir(path.join(here, 'results'), { recursive: true });
    await writeFile(path.join(here, 'results', 'request-body.md'), report);
    process.stdout.write(report);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
