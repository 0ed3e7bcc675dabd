import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const FIXTURES = path.resolve(REPO_ROOT, '../shared/fixtures/media');

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
  dataDir: string;
  port: number;
  pkiPort: number;
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
  timeoutMs?: number;
}

/**
 * Starts the mesh the way `npm start` does (`node --import tsx packages/mesh/src/main.ts`) with a
 * fresh data dir and free ports, and waits for its `mesh ready` line.
 */
export async function startMeshProcess(options: StartMeshOptions = {}): Promise<MeshProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-e2e-')));
  const port = options.env?.MESH_PORT ? Number(options.env.MESH_PORT) : await freePort();
  const pkiPort = options.env?.PKI_HTTP_PORT ? Number(options.env.PKI_HTTP_PORT) : await freePort();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    MESH_DATA_DIR: dataDir,
    MESH_PORT: String(port),
    PKI_HTTP_PORT: String(pkiPort),
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/mesh/src/main.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const readyLine = await new Promise<string>((resolve, reject) => {
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
  const fields = Object.fromEntries(readyLine.split(' ').slice(2).map((part) => part.split('=') as [string, string]));
  let stopped: Promise<number | null> | undefined;
  return {
    url: fields.rpc,
    pkiUrl: fields.pki,
    dataDir,
    port,
    pkiPort,
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
        if (!stopOptions.keepDataDir && !options.dataDir) await rm(dataDir, { recursive: true, force: true });
        return code;
      })();
      return stopped;
    },
  };
}
