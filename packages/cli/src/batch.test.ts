import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createBatchProgress } from './batch.js';
import type { CliIo } from './io.js';

function capture(isTTY: boolean) {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY, columns: 120 });
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const io: CliIo = { stdout, stderr, env: {}, cwd: process.cwd() };
  return { io, out: () => out, err: () => err };
}

describe('batch progress', () => {
  it('prints one numbered line per file when the output is not a terminal', () => {
    const { io, out, err } = capture(false);
    const progress = createBatchProgress(io, { label: 'signing', quiet: false, lineStream: 'stdout' });
    progress.start(12);
    progress.done('a.jpg', 'signed a.jpg');
    progress.done('b.png', 'FAILED b.png: no');
    progress.stop();
    expect(out()).toBe('[ 1/12] signed a.jpg\n[ 2/12] FAILED b.png: no\n');
    expect(err()).toBe('');
  });

  it('draws a bar with rate and ETA on a terminal', () => {
    const { io, err } = capture(true);
    const progress = createBatchProgress(io, { label: 'verifying', quiet: false, lineStream: 'stderr' });
    progress.start(2);
    progress.done('a.jpg', '');
    progress.done('b.jpg', '');
    progress.stop();
    expect(err()).toMatch(/verifying [█░]+ 100% \| 2\/2 files \| [\d.]+ files\/s \| ETA 0s \| b\.jpg/);
  });

  it('prints nothing when quiet', () => {
    const { io, out, err } = capture(true);
    const progress = createBatchProgress(io, { label: 'signing', quiet: true, lineStream: 'stdout' });
    progress.start(1);
    progress.done('a', 'a');
    progress.stop();
    expect(out() + err()).toBe('');
  });
});
