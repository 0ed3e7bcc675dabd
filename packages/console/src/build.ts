import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Logger } from 'pino';

const PACKAGE_DIR = path.resolve(import.meta.dirname, '..');
const REPO_ROOT = path.resolve(PACKAGE_DIR, '../..');
/** Where the mesh serves the console from; made by `ensureConsoleBuilt`, never committed. */
export const DEFAULT_CONSOLE_DIST = path.join(PACKAGE_DIR, 'dist');
const STAMP = 'build-source.sha256';
const LOCK = path.join(PACKAGE_DIR, '.build.lock');
/** A lock older than this belongs to a build that died. */
const STALE_LOCK_MS = 5 * 60 * 1000;

/** What the bundle is made from: the page's sources, its build config, the generated stubs, the locked dependency versions. */
const SOURCES = [path.join(PACKAGE_DIR, 'web'), path.join(PACKAGE_DIR, 'vite.config.ts'), path.join(REPO_ROOT, 'packages/proto/src/gen'), path.join(REPO_ROOT, 'package-lock.json')];

async function filesUnder(entry: string): Promise<string[]> {
  const info = await stat(entry).catch(() => undefined);
  if (!info) return [];
  if (info.isFile()) return [entry];
  const names = (await readdir(entry)).sort();
  const nested = await Promise.all(names.map((name) => filesUnder(path.join(entry, name))));
  return nested.flat();
}

/** SHA-256 over the names and contents of every source of the bundle. */
export async function consoleSourceHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const source of SOURCES) {
    for (const file of await filesUnder(source)) {
      hash.update(path.relative(REPO_ROOT, file)).update('\0').update(await readFile(file)).update('\0');
    }
  }
  return hash.digest('hex');
}

export interface ConsoleBuild {
  /** `fresh`: the existing build matched its sources; `built`: built now; `busy`: another process builds it. */
  outcome: 'fresh' | 'built' | 'busy';
  durationMs: number;
}

async function takeLock(): Promise<boolean> {
  try {
    const handle = await open(LOCK, 'wx');
    await handle.writeFile(String(process.pid));
    await handle.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const info = await stat(LOCK).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > STALE_LOCK_MS) {
      await rm(LOCK, { force: true });
      return takeLock();
    }
    return false;
  }
}

function runVite(outDir: string): Promise<void> {
  const viteBin = path.join(path.dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin/vite.js');
  const args = [viteBin, 'build', '--config', path.join(PACKAGE_DIR, 'vite.config.ts'), '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: PACKAGE_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vite build exited with ${code}:\n${output.slice(-4000)}`))));
  });
}

/**
 * Builds the console with Vite when its build is missing or was made from other sources; `npm
 * start` runs this, so `npm ci && npm start` serves a current console and no build output is
 * committed. One process builds at a time (a lock file); the build is written beside the old
 * one and swapped in, so a request never sees half of it.
 */
export async function ensureConsoleBuilt(logger: Logger, distDir = DEFAULT_CONSOLE_DIST): Promise<ConsoleBuild> {
  const started = performance.now();
  const sourceHash = await consoleSourceHash();
  const current = await readFile(path.join(distDir, STAMP), 'utf8').catch(() => undefined);
  if (current?.trim() === sourceHash) return { outcome: 'fresh', durationMs: Math.round(performance.now() - started) };
  if (!(await takeLock())) {
    logger.info('the console is being built by another process');
    return { outcome: 'busy', durationMs: Math.round(performance.now() - started) };
  }
  const staging = `${distDir}.building-${process.pid}`;
  const old = `${distDir}.old-${process.pid}`;
  try {
    logger.info('building the console (its sources changed or it was never built)');
    await runVite(staging);
    await writeFile(path.join(staging, STAMP), `${sourceHash}\n`);
    await rename(distDir, old).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rename(staging, distDir);
    const durationMs = Math.round(performance.now() - started);
    logger.info({ durationMs }, 'console built');
    return { outcome: 'built', durationMs };
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
    await rm(LOCK, { force: true });
  }
}
