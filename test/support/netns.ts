import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { withRootNetworkChanges } from './root-network-lock.js';

const exec = promisify(execFile);

/** Runs `ip …`; a failure carries the command and what ip printed. */
export async function ip(...args: string[]): Promise<string> {
  try {
    const { stdout } = await exec('ip', args, { timeout: 15_000 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')} failed: ${(e.stderr ?? '').trim() || e.message}`);
  }
}

/**
 * A failure handler for removing a link: a link already gone is what was wanted. (A deleted
 * namespace's veth pair is removed by the kernel a moment later, so it may vanish between being
 * listed and being deleted.)
 */
const unlessGone = (failures: unknown[]) => (error: unknown) => {
  if (!/Cannot find device/.test((error as Error).message)) failures.push(error);
};

/**
 * Why network namespaces cannot be made here (no `ip`, no privileges), or undefined when they can:
 * one is added and removed again.
 */
export async function netnsUnavailable(): Promise<string | undefined> {
  const name = `c2pamesh-probe-${randomBytes(4).toString('hex')}`;
  try {
    await ip('netns', 'add', name);
  } catch (error) {
    return `network namespaces cannot be made here (${(error as Error).message}); the test needs root or CAP_SYS_ADMIN and CAP_NET_ADMIN`;
  }
  await ip('netns', 'del', name);
  return undefined;
}

/** One host: a network namespace with one address on the lab's bridge. */
export interface LabHost {
  /** The namespace's name (`ip netns exec <name> …`). */
  namespace: string;
  address: string;
  /** Prefix that runs a command inside the namespace. */
  exec: string[];
}

/**
 * Hosts made of network namespaces on one private /24 (10.231.x.0/24, a subnet no interface of
 * this machine has yet): a bridge in the root namespace holds the first address, each host is a
 * namespace joined to the bridge by a veth pair. The namespaces get no default route, so nothing
 * in them reaches past this machine; the root namespace reaches every host through the bridge.
 * Names carry a random run id, so parallel runs never meet, and `destroy` removes all of it.
 */
export class NetnsLab {
  readonly runId = randomBytes(3).toString('hex');
  readonly bridge = `c2pm${this.runId}br`;
  readonly hosts: LabHost[] = [];
  private subnet: string | undefined;
  private bridgeMade = false;

  /** The bridge's address, where the root namespace listens for the hosts. */
  get gateway(): string {
    if (!this.subnet) throw new Error('the lab has no network yet');
    return `${this.subnet}.1`;
  }

  /** Every change the lab makes to the root namespace holds the root network lock. */
  async create(): Promise<void> {
    await withRootNetworkChanges(() => this.createUnlocked());
  }

  private async createUnlocked(): Promise<void> {
    const used = new Set([...(await ip('-4', '-o', 'addr', 'show')).matchAll(/inet 10\.231\.(\d+)\./g)].map((m) => Number(m[1])));
    const routes = await ip('-4', 'route', 'show');
    const free = Array.from({ length: 254 }, (_, i) => i + 1).filter((n) => !used.has(n) && !routes.includes(`10.231.${n}.`));
    if (free.length === 0) throw new Error('no free 10.231.x.0/24 subnet on this machine');
    this.subnet = `10.231.${free[Math.floor(Math.random() * free.length)]}`;
    await ip('link', 'add', this.bridge, 'type', 'bridge');
    this.bridgeMade = true;
    await ip('addr', 'add', `${this.gateway}/24`, 'dev', this.bridge);
    await ip('link', 'set', this.bridge, 'up');
  }

  /** A new host named `role` (letters, digits and dashes). */
  async addHost(role: string): Promise<LabHost> {
    return withRootNetworkChanges(() => this.addHostUnlocked(role));
  }

  private async addHostUnlocked(role: string): Promise<LabHost> {
    if (!this.subnet) throw new Error('create the lab first');
    const index = this.hosts.length + 10;
    if (index > 250) throw new Error('the lab is full');
    const namespace = `c2pamesh-${this.runId}-${role}`;
    const outside = `c2pm${this.runId}h${index}`;
    const inside = `c2pm${this.runId}n${index}`;
    const address = `${this.subnet}.${index}`;
    await ip('netns', 'add', namespace);
    // Recorded at once: a host half made is still removed by destroy.
    const host: LabHost = { namespace, address, exec: ['ip', 'netns', 'exec', namespace] };
    this.hosts.push(host);
    await ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    await ip('link', 'set', inside, 'netns', namespace);
    await ip('link', 'set', outside, 'master', this.bridge);
    await ip('link', 'set', outside, 'up');
    await ip('-n', namespace, 'link', 'set', 'lo', 'up');
    await ip('-n', namespace, 'link', 'set', inside, 'name', 'eth0');
    await ip('-n', namespace, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    await ip('-n', namespace, 'link', 'set', 'eth0', 'up');
    return host;
  }

  /**
   * Removes every namespace (which takes its veth pair with it) and the bridge. Processes inside
   * must be stopped first. Every step runs even when one failed; the first failure is thrown.
   */
  async destroy(): Promise<void> {
    await withRootNetworkChanges(async () => {
      await this.destroyUnlocked();
      // The kernel removes a deleted namespace's veth pair a moment later: the lock is kept until
      // the root namespace has seen the last of this lab's links go.
      await this.leftovers();
    });
  }

  private async destroyUnlocked(): Promise<void> {
    const failures: unknown[] = [];
    for (const host of this.hosts.splice(0)) {
      await ip('netns', 'del', host.namespace).catch((e) => failures.push(e));
      // A veth whose namespace was never reached is still in the root namespace.
      const outside = `c2pm${this.runId}h${host.address.split('.')[3]}`;
      if ((await ip('-o', 'link', 'show').catch(() => '')).includes(`${outside}@`)) await ip('link', 'del', outside).catch(unlessGone(failures));
    }
    if (this.bridgeMade) {
      await ip('link', 'del', this.bridge).catch(unlessGone(failures));
      this.bridgeMade = false;
    }
    if (failures.length > 0) throw failures[0];
  }

  /**
   * Names of this run's namespaces and links still present (empty after destroy). The kernel
   * removes a deleted namespace's veth pair a moment later, so a link still listed is given up to
   * five seconds to go.
   */
  async leftovers(): Promise<string[]> {
    for (let waited = 0; ; waited += 100) {
      const found = await this.present();
      if (found.length === 0 || waited >= 5000) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async present(): Promise<string[]> {
    const text = `${await ip('netns', 'list')}\n${await ip('-o', 'link', 'show')}`;
    return [...new Set([...text.matchAll(new RegExp(`(c2pamesh-${this.runId}-[\\w-]+|c2pm${this.runId}\\w+)`, 'g'))].map((m) => m[1]))];
  }
}
