import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { cleanUp, removeDir } from './cleanup.js';
import { SERVICE_ORDER, type ServiceProcessName } from './four-processes.js';
import { startHaproxy, type HaproxyProcess } from './haproxy.js';
import { NetnsLab, type LabHost } from './netns.js';
import { createScratchDatabase, dropScratchDatabase, startMeshProcess, type MeshProcess } from './start-mesh.js';

/** Ports inside each host: every host has an address of its own, so all use the same ones. */
export const RPC_PORT = 8443;
export const PKI_PORT = 8080;
export const METRICS_PORT = 9464;
const POSTGRES_PORT = 5432;

/** The PostgreSQL server this test uses when DATABASE_URL names none (the suite's PGlite run). */
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Why no PostgreSQL server answers at `baseUrl`, or undefined when one does. */
export async function postgresUnavailable(baseUrl: string): Promise<string | undefined> {
  const url = new URL(baseUrl);
  const ok = await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 5432), timeout: 3000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
  return ok ? undefined : `no PostgreSQL server answers at ${url.host} (set DATABASE_URL to one)`;
}

const urlVariable = (name: string) => `MESH_${name.toUpperCase().replace(/-/g, '_')}_URL`;

/** One replica of one service: a mesh process on a host of its own, started and stopped at will. */
export class Replica {
  process: MeshProcess | undefined;
  /** How many times it was started. */
  starts = 0;

  constructor(
    readonly service: ServiceProcessName,
    readonly index: number,
    readonly host: LabHost,
    private readonly env: Record<string, string>,
    private readonly dataDir: string,
  ) {}

  get name(): string {
    return `${this.service}-${this.index}`;
  }

  get running(): boolean {
    const child = this.process?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Starts the process and waits until its `/readyz` answers 200. */
  async start(timeoutMs = 240_000): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const started = Date.now();
    this.process = await startMeshProcess({ dataDir: this.dataDir, env: this.env, wrapper: this.host.exec, timeoutMs });
    this.starts++;
    await this.waitReady(Math.max(10_000, timeoutMs - (Date.now() - started)));
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const url = `http://${this.host.address}:${METRICS_PORT}/readyz`;
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
        last = `${response.status} ${await response.text()}`;
        if (response.status === 200) return;
      } catch (error) {
        last = (error as Error).message;
      }
      if (!this.running) throw new Error(`${this.name} exited before it was ready:\n${this.process?.output()}`);
      if (Date.now() > deadline) throw new Error(`${this.name} not ready after ${timeoutMs} ms: ${last}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** kill -9: no shutdown, no goodbye to callers. */
  async kill(): Promise<void> {
    if (!this.process) return;
    this.process.child.kill('SIGKILL');
    await this.process.stop();
  }

  /** SIGTERM and wait for a clean exit (in-flight calls finish first). */
  async stop(): Promise<number | null | undefined> {
    return this.process?.stop();
  }
}

export interface MultiHostMesh {
  lab: NetnsLab;
  replicas: Record<ServiceProcessName, Replica[]>;
  /** https URL of each service's HAProxy. */
  urls: Record<ServiceProcessName, string>;
  /** The scratch database, reached from the root namespace directly (for checks). */
  databaseUrl: string;
  files: MeshProcess['files'];
  stop(): Promise<void>;
}

/**
 * The mesh as two replicas of each of the four services, each replica a process on a host (network
 * namespace) of its own, each service behind an HAProxy on a host of its own passing TLS through.
 * Services reach each other only through those HAProxy addresses, with mTLS. All share one data
 * dir (like one Secret mounted into every pod of a Deployment) and one scratch PostgreSQL
 * database, reached from the hosts through an HAProxy forwarder on the bridge address (the server
 * itself listens on loopback only and is left as it is).
 */
export async function startMultiHostMesh(options: { postgresUrl: string; replicas?: number; env?: Record<string, string> }): Promise<MultiHostMesh> {
  const count = options.replicas ?? 2;
  const lab = new NetnsLab();
  const proxies: HaproxyProcess[] = [];
  const replicas = Object.fromEntries(SERVICE_ORDER.map((s) => [s, [] as Replica[]])) as Record<ServiceProcessName, Replica[]>;
  let dataDir: string | undefined;
  let databaseUrl: string | undefined;
  const stop = () =>
    cleanUp({
      replicas: () => Promise.all(Object.values(replicas).flat().map((r) => r.stop())),
      proxies: () => Promise.all(proxies.map((p) => p.stop())),
      lab: () => lab.destroy(),
      database: () => databaseUrl && dropScratchDatabase(options.postgresUrl, databaseUrl),
      dataDir: () => removeDir(dataDir),
    });
  try {
    databaseUrl = await createScratchDatabase(options.postgresUrl);
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-multi-host-'));
    await lab.create();

    const postgres = new URL(options.postgresUrl);
    proxies.push(
      await startHaproxy({
        name: 'postgres',
        dir: dataDir,
        proxies: [{ bind: { address: lab.gateway, port: POSTGRES_PORT }, backends: [{ address: postgres.hostname, port: Number(postgres.port || POSTGRES_PORT) }] }],
      }),
    );
    const meshDatabaseUrl = new URL(databaseUrl);
    meshDatabaseUrl.host = `${lab.gateway}:${POSTGRES_PORT}`;

    const frontends = {} as Record<ServiceProcessName, LabHost>;
    const hosts = {} as Record<ServiceProcessName, LabHost[]>;
    for (const service of SERVICE_ORDER) {
      frontends[service] = await lab.addHost(`${service}-lb`);
      hosts[service] = [];
      for (let i = 0; i < count; i++) hosts[service].push(await lab.addHost(`${service}-${i}`));
    }
    const urls = Object.fromEntries(SERVICE_ORDER.map((s) => [s, `https://${frontends[s].address}:${RPC_PORT}`])) as Record<ServiceProcessName, string>;
    // Every process sharing the data dir gets the same names, so the server certificate made by
    // the first one carries every address and no later one finds it stale.
    const serverNames = [...Object.values(frontends), ...Object.values(hosts).flat()].map((h) => h.address).join(',');

    for (const service of SERVICE_ORDER) {
      const backends = hosts[service].map((h) => ({ address: h.address, port: RPC_PORT, readyPort: METRICS_PORT }));
      const bind = frontends[service].address;
      proxies.push(
        await startHaproxy({
          name: service,
          dir: dataDir,
          wrapper: frontends[service].exec,
          proxies: [
            { bind: { address: bind, port: RPC_PORT }, backends },
            // The CA's relying-party listener (OCSP, TSA, CA certificates) is behind the same address.
            ...(service === 'certificate-authority' ? [{ bind: { address: bind, port: PKI_PORT }, backends: backends.map((b) => ({ ...b, port: PKI_PORT })) }] : []),
          ],
        }),
      );
      hosts[service].forEach((host, i) => {
        const env: Record<string, string> = {
          ...options.env,
          ...Object.fromEntries(SERVICE_ORDER.filter((s) => s !== service).map((s) => [urlVariable(s), urls[s]])),
          DATABASE_URL: meshDatabaseUrl.toString(),
          MESH_SERVICES: service,
          MESH_HOST: host.address,
          MESH_PORT: String(RPC_PORT),
          MESH_METRICS_PORT: String(METRICS_PORT),
          PKI_HTTP_PORT: String(PKI_PORT),
          PKI_PUBLIC_URL: `http://${frontends['certificate-authority'].address}:${PKI_PORT}`,
          MESH_SERVER_NAMES: serverNames,
          MESH_ENGINE_THREADS: '1',
        };
        replicas[service].push(new Replica(service, i, host, env, dataDir!));
      });
    }

    // The first migrates the database and makes the PKI; the others reuse both.
    const [first, ...rest] = SERVICE_ORDER.map((s) => replicas[s][0]);
    await first.start();
    await Promise.all(rest.map((r) => r.start()));
    await Promise.all(SERVICE_ORDER.flatMap((s) => replicas[s].slice(1)).map((r) => r.start()));
    return { lab, replicas, urls, databaseUrl, files: first.process!.files, stop };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}
