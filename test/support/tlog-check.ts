import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './start-mesh.js';

const run = promisify(execFile);

/**
 * Go's golang.org/x/mod/sumdb (Debian: golang-go, golang-golang-x-mod-dev), built once per test
 * file from test/support/tlog-check: an implementation of signed notes, tiles and RFC 6962
 * proofs that owes nothing to the mesh's.
 */
let built: Promise<string> | undefined;

async function build(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tlog-check-'));
  // The binary and Go's build cache go when the test process does.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const binary = path.join(dir, 'tlog-check');
  await run('go', ['build', '-o', binary, '.'], {
    cwd: path.join(REPO_ROOT, 'test/support/tlog-check'),
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: path.join(dir, 'cache'), GOFLAGS: '' },
  });
  return binary;
}

export interface TlogCheckInput {
  logUrl: string;
  verifierKey: string;
  checkpoint: string;
  oldSize?: number;
  oldRoot?: string;
  consistencyProof?: string[];
  index?: number;
  leafHash?: string;
  inclusionProof?: string[];
}

/** Resolves with Go's verdict; rejects with its message when a check fails. */
export async function tlogCheck(input: TlogCheckInput): Promise<{ origin: string; size: number; consistent?: boolean; included?: boolean }> {
  built ??= build();
  const binary = await built;
  const child = execFile(binary, [], { timeout: 30_000 });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.end(JSON.stringify(input));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`tlog-check: ${stderr.trim()}`);
  return JSON.parse(stdout);
}

export const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
