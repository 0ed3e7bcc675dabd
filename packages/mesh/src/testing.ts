import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Transport } from '@connectrpc/connect';
import { ADMIN_SCOPES, type Identity } from '@c2pa-mesh/auth';
import { createInProcessTransport } from '@c2pa-mesh/clients';
import { loadConfig, type MeshConfig } from '@c2pa-mesh/config';
import { startTlsListener, type RunningListener, type TlsListenerOptions } from '@c2pa-mesh/server';
import { createTestDatabase, type TestDatabase } from '@c2pa-mesh/storage/testing';
import { createUrlFetcher, DEFAULT_VERIFICATION_SETTINGS, type UrlFetcher } from '@c2pa-mesh/service-verification';
import { pino, type Logger } from 'pino';
import { assembleMesh, type MeshAssembly } from './mesh.js';

export interface TestMesh extends MeshAssembly {
  config: MeshConfig;
  db: TestDatabase['db'];
  dataDir: string;
  /** A transport into the whole mesh, as `caller` (or, without one, from request headers: API keys). */
  transport(caller?: Identity): Transport;
  close(): Promise<void>;
}

export const ADMIN_IDENTITY: Identity = { kind: 'ADMIN', id: 'spiffe://c2pa-mesh/admin', scopes: ADMIN_SCOPES };

/**
 * The whole mesh in memory for service tests: a fresh database (PGlite, or PostgreSQL when
 * DATABASE_URL is set), a real PKI bootstrapped into a temporary data dir, the real interceptors.
 * Calls go through the Connect protocol layer with no sockets (as createRouterTransport does).
 */
export async function createTestMesh(env: Record<string, string> = {}, options: { logger?: Logger } = {}): Promise<TestMesh> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-test-'));
  let database: TestDatabase | undefined;
  try {
    const opened = await createTestDatabase();
    database = opened;
    const config = loadConfig({ MESH_DATA_DIR: dataDir, LOG_LEVEL: 'error', ...env });
    const logger = options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    const mesh = await assembleMesh(config, opened.db, logger);
    return {
      ...mesh,
      config,
      db: opened.db,
      dataDir,
      transport: (caller) => createInProcessTransport({ routes: mesh.routes, interceptors: mesh.interceptors, caller, clientIp: '127.0.0.1' }),
      async close() {
        // Each step even when the one before failed: no database or data dir left behind.
        try {
          await mesh.close();
        } finally {
          try {
            await opened.close();
          } finally {
            await rm(dataDir, { recursive: true, force: true });
          }
        }
      },
    };
  } catch (err) {
    try {
      await database?.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
    throw err;
  }
}

/** PEM material of the admin identity, as a TLS client presents it. */
export interface AdminTls {
  ca: string;
  cert: string;
  key: string;
}

/**
 * A real TLS listener (port 0, silent log) serving a test mesh's routes through its interceptors,
 * with the admin client credentials to call it; `options` adds or overrides listener settings.
 */
export async function startTestListener(mesh: TestMesh, options: Partial<TlsListenerOptions> = {}): Promise<{ listener: RunningListener; adminTls: AdminTls }> {
  const adminTls = { ca: mesh.pki.meshCa.pem, cert: mesh.pki.admin.pem, key: await readFile(mesh.pki.admin.privateKeyPath, 'utf8') };
  const listener = await startTlsListener({
    host: '127.0.0.1',
    port: 0,
    certificatePem: mesh.pki.server.pem,
    privateKeyPem: await readFile(mesh.pki.server.privateKeyPath, 'utf8'),
    clientCaPem: mesh.pki.meshCa.pem,
    routes: mesh.routes,
    interceptors: mesh.interceptors,
    logger: pino({ level: 'silent' }),
    ...options,
  });
  return { listener, adminTls };
}

/**
 * The URL fetcher the mesh gives VerifyUrl and MirrorStage's `file_url`, for a test that serves
 * the files itself: its hosts allowed past the address policy, its HTTPS certificate's CA trusted.
 */
export function createTestUrlFetcher(options: { allowHosts: string[]; trustAnchorsPem: string }): UrlFetcher {
  return createUrlFetcher({ ...DEFAULT_VERIFICATION_SETTINGS.url, allowHosts: options.allowHosts }, undefined, { extraTrustAnchorsPem: options.trustAnchorsPem });
}
