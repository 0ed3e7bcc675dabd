import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const FIXTURES = path.resolve(REPO_ROOT, 'test/fixtures/media');

/**
 * The arguments `npm start` gives Node (package.json's start script, `node …`): tests and
 * benchmarks start the mesh with the same Node options and entry point.
 */
export function meshStartArgs(): string[] {
  const script: string = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).scripts.start;
  const [command, ...args] = script.trim().split(/\s+/);
  if (command !== 'node') throw new Error(`the start script must run node directly, not: ${script}`);
  return args;
}

/** A free TCP port on 127.0.0.1 (bound once, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

export interface MeshProcess {
  url: string;
  pkiUrl: string | undefined;
  /** http URL of the operations listener (/metrics, /readyz, /livez). */
  metricsUrl: string;
  dataDir: string;
  port: number;
  pkiPort: number;
  /** The scratch PostgreSQL database of this run, when DATABASE_URL is set. */
  databaseUrl: string | undefined;
  files: { meshCa: string; adminCert: string; adminKey: string; c2paRoot: string; c2paChain: string };
  readyLine: string;
  /** Everything the process printed so far (JSON log lines). */
  output(): string;
  child: ChildProcess;
  /** SIGTERM, wait for exit; the data dir is removed unless `keepDataDir`. */
  stop(options?: { keepDataDir?: boolean }): Promise<number | null>;
}

export interface StartMeshOptions {
  env?: Record<string, string>;
  /** Reuse an existing data dir (restart tests); otherwise a fresh temporary one. */
  dataDir?: string;
  /**
   * Reuse a PostgreSQL database made by an earlier start (restart tests) and drop it on stop.
   * Without it, when DATABASE_URL is set, each start gets a fresh database with a random name.
   */
  databaseUrl?: string;
  timeoutMs?: number;
  /** A command the mesh is started under (it runs `node …` as its last arguments), e.g. `unshare`. */
  wrapper?: string[];
}

/** A new, empty PostgreSQL database next to the one DATABASE_URL names; returns its URL. */
export async function createScratchDatabase(baseUrl: string): Promise<string> {
  const { randomBytes } = await import('node:crypto');
  const pg = (await import('pg')).default;
  const name = `mesh_e2e_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropScratchDatabase(baseUrl: string, url: string): Promise<void> {
  const pg = (await import('pg')).default;
  const name = new URL(url).pathname.slice(1);
  if (!/^mesh_e2e_[0-9a-f]+$/.test(name)) throw new Error(`refusing to drop ${name}: not a scratch database`);
  const client = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(`drop database if exists ${name} with (force)`);
  } finally {
    await client.end();
  }
}

/**
 * Starts the mesh the way `npm start` does (`meshStartArgs`) with a fresh data dir and free ports,
 * and waits for its `mesh ready` line.
 */
export async function startMeshProcess(options: StartMeshOptions = {}): Promise<MeshProcess> {
  // Free ports are found by binding and releasing them, so another process (often another test's
  // mesh) may take one before this mesh listens on it. Such a start is made again with other
  // ports, when the test left the ports to this function.
  const portsChosenHere = !options.env?.MESH_PORT && !options.env?.PKI_HTTP_PORT && !options.env?.MESH_METRICS_PORT;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startMeshProcessOnce(options);
    } catch (error) {
      if (!portsChosenHere || attempt >= 3 || !/EADDRINUSE/.test((error as Error).message)) throw error;
    }
  }
}

async function startMeshProcessOnce(options: StartMeshOptions): Promise<MeshProcess> {
  const port = options.env?.MESH_PORT ? Number(options.env.MESH_PORT) : await freePort();
  const pkiPort = options.env?.PKI_HTTP_PORT ? Number(options.env.PKI_HTTP_PORT) : await freePort();
  // Never the default 9464: meshes of parallel tests would collide on it.
  const metricsPort = options.env?.MESH_METRICS_PORT ? Number(options.env.MESH_METRICS_PORT) : await freePort();
  // Never the shared database itself: a scratch one per run, so that runs never collide.
  const baseUrl = process.env.DATABASE_URL;
  const explicitDatabase = options.env?.DATABASE_URL !== undefined;
  const databaseUrl = explicitDatabase ? undefined : options.databaseUrl ?? (baseUrl ? await createScratchDatabase(baseUrl) : undefined);
  // Made after the database: when making that fails, no data dir is left behind.
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-e2e-')));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    MESH_DATA_DIR: dataDir,
    MESH_PORT: String(port),
    PKI_HTTP_PORT: String(pkiPort),
    MESH_METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const [command, ...args] = [...(options.wrapper ?? []), process.execPath, ...meshStartArgs()];
  const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mesh did not become ready within ${options.timeoutMs ?? 60_000} ms:\n${output}`)), options.timeoutMs ?? 60_000);
    const check = () => {
      const line = output.split('\n').find((l) => l.startsWith('mesh ready'));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mesh exited with ${code} before it was ready:\n${output}`));
    });
  });
  let readyLine: string;
  try {
    readyLine = await ready;
  } catch (error) {
    // A mesh that failed to start leaves nothing behind either: no process, data dir or database.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    if (databaseUrl && baseUrl && !options.databaseUrl) await dropScratchDatabase(baseUrl, databaseUrl).catch(() => {});
    throw error;
  }
  const fields = Object.fromEntries(readyLine.split(' ').slice(2).map((part) => part.split('=') as [string, string]));
  let stopped: Promise<number | null> | undefined;
  return {
    url: fields.rpc,
    pkiUrl: fields.pki,
    metricsUrl: fields.metrics,
    dataDir,
    port,
    pkiPort,
    databaseUrl,
    files: { meshCa: fields['mesh-ca'], adminCert: fields['admin-cert'], adminKey: fields['admin-key'], c2paRoot: fields['c2pa-root'], c2paChain: fields['c2pa-chain'] },
    readyLine,
    output: () => output,
    child,
    stop(stopOptions = {}) {
      stopped ??= (async () => {
        if (child.exitCode === null) child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const code = await exited;
        clearTimeout(killer);
        try {
          if (!stopOptions.keepDataDir && !options.dataDir) await rm(dataDir, { recursive: true, force: true });
        } finally {
          if (!stopOptions.keepDataDir && databaseUrl && baseUrl) await dropScratchDatabase(baseUrl, databaseUrl);
        }
        return code;
      })();
      return stopped;
    },
  };
}
