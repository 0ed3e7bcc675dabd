import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createScratchDatabase, dropScratchDatabase, freePort, startMeshProcess, type MeshProcess } from './start-mesh.js';

export const SERVICE_ORDER = ['registry', 'certificate-authority', 'signing', 'verification'] as const;
export type ServiceProcessName = (typeof SERVICE_ORDER)[number];

export interface FourProcessMesh {
  processes: Record<ServiceProcessName, MeshProcess>;
  /** The database all four share. */
  databaseUrl: string;
  stop(): Promise<void>;
}

const urlVariable = (name: string) => `MESH_${name.toUpperCase().replace(/-/g, '_')}_URL`;

/**
 * The mesh as four processes, one service each, reaching each other over mTLS and sharing one
 * database and data dir (PKI). With DATABASE_URL a scratch PostgreSQL database; without it, an
 * in-memory PGlite served over the PostgreSQL wire protocol — a test-only stand-in for a server,
 * since several processes cannot open one embedded database directory.
 */
export async function startFourProcessMesh(options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<FourProcessMesh> {
  let databaseUrl: string;
  let closeDatabase: () => Promise<void>;
  const baseUrl = process.env.DATABASE_URL;
  if (baseUrl) {
    databaseUrl = await createScratchDatabase(baseUrl);
    closeDatabase = () => dropScratchDatabase(baseUrl, databaseUrl);
  } else {
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    const pglite = await PGlite.create();
    const port = await freePort();
    const server = new PGLiteSocketServer({ db: pglite, port, host: '127.0.0.1', maxConnections: 40 });
    await server.start();
    databaseUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
    closeDatabase = async () => {
      await server.stop();
      await pglite.close();
    };
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-e2e-four-'));
  const processes = {} as Record<ServiceProcessName, MeshProcess>;
  // Every step runs even when one before failed: no process, database or data dir stays behind.
  const stop = async () => {
    const stopped = await Promise.allSettled(Object.values(processes).map((p) => p.stop()));
    try {
      await closeDatabase();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
    const failed = stopped.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  };
  try {
    const ports = Object.fromEntries(await Promise.all(SERVICE_ORDER.map(async (n) => [n, await freePort()] as const)));
    const urls = Object.fromEntries(SERVICE_ORDER.map((n) => [urlVariable(n), `https://127.0.0.1:${ports[n]}`]));
    const pkiPort = await freePort();
    // One after the other: the first migrates the database and bootstraps the PKI, the others reuse both.
    for (const name of SERVICE_ORDER) {
      const env: Record<string, string> = { ...options.env, ...urls, DATABASE_URL: databaseUrl, MESH_SERVICES: name, MESH_PORT: String(ports[name]), PKI_HTTP_PORT: String(pkiPort) };
      delete env[urlVariable(name)];
      processes[name] = await startMeshProcess({ dataDir, env, timeoutMs: options.timeoutMs });
    }
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return { processes, databaseUrl, stop };
}
