/**
 * Helpers the benchmarks share: command-line numbers, percentiles, timing, the CPU time of a
 * process, a client-throughput loop, and the 1 MiB JPEG they sign and verify.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FIXTURES } from '../test/support/start-mesh.js';

export const MB = 1024 * 1024;

/** `--name <number>` from the command line, or `fallback`. */
export const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

/** Progress goes to stderr; the report is written to a file. */
export const log = (line: string) => process.stderr.write(`${line}\n`);

export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** Milliseconds as the reports print them. */
export const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

export const elapsed = async <T>(work: () => Promise<T>) => {
  const start = performance.now();
  const value = await work();
  return { ms: performance.now() - start, value };
};

/** Linux reports CPU time in USER_HZ ticks, 100 per second on every mainstream architecture. */
const CLOCK_TICKS = 100;

/** CPU time (user + system) a process has used so far, in ms; its threads included. */
export async function cpuOf(pid: number | 'self'): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/**
 * Calls per second: one caller per client (each its own TLS connection), every caller calling
 * again as soon as its call returns, for `durationMs`. One call each first, untimed.
 */
export async function throughput(clients: number, durationMs: number, newCaller: () => () => Promise<unknown>): Promise<number> {
  const callers = Array.from({ length: clients }, newCaller);
  await Promise.all(callers.map((call) => call()));
  let completed = 0;
  const deadline = performance.now() + durationMs;
  const start = performance.now();
  await Promise.all(
    callers.map(async (call) => {
      while (performance.now() < deadline) {
        await call();
        completed++;
      }
    }),
  );
  return completed / ((performance.now() - start) / 1000);
}

const TRAINED = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

/** A manifest definition with one `c2pa.created` action. */
export const manifestJson = (title: string) =>
  JSON.stringify({ title, assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED }] } }] });

/**
 * A JPEG of `bytes`: the fixture photo with comment (COM) segments of random bytes after SOI. A
 * valid JPEG of that size (no encoder is at hand to make a larger picture); c2pa-rs hashes every
 * byte outside its own manifest, so its work grows with the file as it does for a larger photo.
 */
export function jpegOfSize(bytes: number): Uint8Array {
  const photo = readFileSync(path.join(FIXTURES, 'no_manifest.jpg'));
  const segments: Buffer[] = [];
  let size = photo.length;
  while (size < bytes) {
    const payload = Math.min(65_533, bytes - size - 4);
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
