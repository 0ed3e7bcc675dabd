import { mkdir, readdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * A lock, across the suite's worker processes, on changes to the root network namespace.
 *
 * Chromium watches the machine's links and addresses (netlink) and aborts what it is loading with
 * net::ERR_NETWORK_CHANGED when they change. The multi-host lab adds a bridge and veth pairs to the
 * root namespace, and removes them again, while other test files run. So the lab's changes hold
 * this lock exclusively and the browser tests hold it shared: browsers run side by side, but never
 * while the lab's links come or go. A waiting change goes before browsers that start after it.
 *
 * Kept as files under one directory: `changer/` (mkdir is atomic) and one file per browser holder
 * in `browsers/`, each naming its process; what a process that is gone (a worker killed mid-test)
 * left behind is removed by the next one to look.
 */
const ROOT = path.join(os.tmpdir(), 'c2pa-mesh-root-network-lock');
const CHANGER = path.join(ROOT, 'changer');
const CHANGER_OWNER = path.join(CHANGER, 'owner');
const BROWSERS = path.join(ROOT, 'browsers');
const POLL_MS = 100;
const DEFAULT_TIMEOUT_MS = 600_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = () => new Promise((resolve) => setTimeout(resolve, POLL_MS));
const tokenOf = () => `${process.pid}-${Math.random().toString(36).slice(2)}`;

/** Whether a changer holds or waits for the lock (a stale one is removed). */
async function changerPresent(): Promise<boolean> {
  const owner = await readFile(CHANGER_OWNER, 'utf8').catch(() => undefined);
  if (owner === undefined) {
    const made = (await stat(CHANGER).catch(() => undefined))?.mtimeMs;
    if (made === undefined) return false;
    // Being made right now, unless it has been ownerless for seconds (its maker died in between).
    if (Date.now() - made < 5_000) return true;
  } else if (alive(Number(owner.split('-')[0]))) {
    return true;
  }
  await rm(CHANGER, { recursive: true, force: true });
  return false;
}

/** Browser holders still alive (stale files are removed). */
async function browserHolders(): Promise<number> {
  let live = 0;
  for (const name of await readdir(BROWSERS).catch(() => [] as string[])) {
    if (alive(Number(name.split('-')[0]))) live++;
    else await rm(path.join(BROWSERS, name), { force: true });
  }
  return live;
}

/** Leaves nothing behind once no one holds or waits: the directories go when empty. */
async function tidy(): Promise<void> {
  await rmdir(BROWSERS).catch(() => undefined);
  await rmdir(ROOT).catch(() => undefined);
}

function deadlineCheck(deadline: number, what: string): void {
  if (Date.now() > deadline) throw new Error(`waited too long for the root network lock (${ROOT}) ${what}`);
}

/** Exclusive, for changes to the root namespace's links and addresses. Returns its release. */
export async function lockRootNetworkForChanges(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  const token = tokenOf();
  for (;;) {
    try {
      await mkdir(ROOT, { recursive: true });
      await mkdir(CHANGER);
      await writeFile(CHANGER_OWNER, token);
      break;
    } catch (error) {
      // ENOENT: the directory was tidied away in between; try again.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      await changerPresent();
      deadlineCheck(deadline, 'held by another change');
      await sleep();
    }
  }
  // Browsers already running finish first; new ones wait for this change.
  try {
    while ((await browserHolders()) > 0) {
      deadlineCheck(deadline, 'while browsers run');
      await sleep();
    }
  } catch (error) {
    await rm(CHANGER, { recursive: true, force: true });
    await tidy();
    throw error;
  }
  return async () => {
    if ((await readFile(CHANGER_OWNER, 'utf8').catch(() => undefined)) === token) await rm(CHANGER, { recursive: true, force: true });
    await tidy();
  };
}

/** Shared, for a browser: no change to the root namespace happens until it is released. */
export async function lockRootNetwork(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  const file = path.join(BROWSERS, tokenOf());
  for (;;) {
    while (await changerPresent()) {
      deadlineCheck(deadline, 'while the network changes');
      await sleep();
    }
    try {
      await mkdir(BROWSERS, { recursive: true });
      await writeFile(file, '');
    } catch (error) {
      // The directory was tidied away in between; try again.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    // A change that started meanwhile goes first.
    if (!(await changerPresent())) break;
    await rm(file, { force: true });
  }
  return async () => {
    await rm(file, { force: true });
    await tidy();
  };
}

/** Runs `change` holding the lock exclusively. */
export async function withRootNetworkChanges<T>(change: () => Promise<T>): Promise<T> {
  const release = await lockRootNetworkForChanges();
  try {
    return await change();
  } finally {
    await release();
  }
}
