import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

/** Why HAProxy cannot run here, or undefined when `haproxy -v` answers. */
export async function haproxyUnavailable(): Promise<string | undefined> {
  try {
    await promisify(execFile)('haproxy', ['-v'], { timeout: 10_000 });
    return undefined;
  } catch (error) {
    return `haproxy is not installed (${(error as Error).message}); on Debian: apt-get install haproxy`;
  }
}

export interface TcpBackend {
  address: string;
  port: number;
  /** HTTP port answering `GET /readyz` with 200 when the backend may take calls. */
  readyPort?: number;
}

export interface TcpProxy {
  /** The address and port clients connect to. */
  bind: { address: string; port: number };
  backends: TcpBackend[];
}

/**
 * HAProxy configuration for TCP proxies: bytes pass through untouched (TLS ends at the backends),
 * connections are spread round-robin over the backends that pass their health check.
 */
export function haproxyConfig(name: string, proxies: TcpProxy[]): string {
  const lines = [
    'global',
    '  maxconn 4000',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    // Long: database pools and HTTP/2 sessions stay open between calls.
    '  timeout client 30m',
    '  timeout server 30m',
    // Checks on a busy machine: /readyz may take a while to answer (HAProxy's default is `inter`).
    '  timeout check 5s',
    // A connection refused (a backend just killed) is tried again on another backend.
    '  retries 2',
    '  option redispatch',
  ];
  proxies.forEach((proxy, i) => {
    lines.push(`listen ${name}-${i}`, `  bind ${proxy.bind.address}:${proxy.bind.port}`, '  balance roundrobin');
    const checked = proxy.backends.some((b) => b.readyPort !== undefined);
    if (checked) lines.push('  option httpchk', '  http-check send meth GET uri /readyz', '  http-check expect status 200');
    proxy.backends.forEach((backend, j) => {
      // A backend is taken out after two failed checks and back after two passed ones. Its open
      // connections are left alone: one that drains after SIGTERM finishes its calls (and sends
      // GOAWAY), one killed outright has its connections reset by the kernel anyway.
      const check = backend.readyPort !== undefined ? ` check port ${backend.readyPort} inter 1s fall 2 rise 2` : '';
      lines.push(`  server b${j} ${backend.address}:${backend.port}${check}`);
    });
  });
  return `${lines.join('\n')}\n`;
}

export interface HaproxyProcess {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Waits until something accepts TCP connections on address:port. */
export async function waitForListener(address: string, port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: address, port, timeout: 1000 });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => (socket.destroy(), resolve(false)));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${address}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts HAProxy in the foreground (`-db`) with the given proxies, under `wrapper` (e.g.
 * `ip netns exec <ns>`), its configuration written in `dir`; resolves once every bind address
 * accepts connections.
 */
export async function startHaproxy(options: { name: string; dir: string; proxies: TcpProxy[]; wrapper?: string[] }): Promise<HaproxyProcess> {
  const file = path.join(options.dir, `haproxy-${options.name}.cfg`);
  await writeFile(file, haproxyConfig(options.name, options.proxies));
  const [command, ...args] = [...(options.wrapper ?? []), 'haproxy', '-db', '-f', file];
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  };
  try {
    await Promise.race([
      Promise.all(options.proxies.map((p) => waitForListener(p.bind.address, p.bind.port))),
      exited.then(() => {
        throw new Error(`haproxy ${options.name} exited:\n${output}`);
      }),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { child, output: () => output, stop };
}
