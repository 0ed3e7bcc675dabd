import { rm } from 'node:fs/promises';
import type { Server } from 'node:http';

/** What http.Server and https.Server share that closing needs. */
export type ClosableServer = Pick<Server, 'listening' | 'close' | 'closeAllConnections'>;

/** How long one cleanup step may take: well inside vitest's hook timeout, even for a few steps. */
export const CLEANUP_STEP_TIMEOUT_MS = 30_000;

/**
 * Runs every step of an `afterAll`, in order, and each one even when an earlier step failed:
 * after a `beforeAll` that stopped part-way, what it did make (temp dirs, processes, databases)
 * is still removed. A step that does not settle within `stepTimeoutMs` fails with its name
 * instead of holding the hook until vitest gives up on it, and the steps after it still run.
 * Steps for things never made return at once (`mesh?.stop()`, `removeDir(undefined)`).
 * Throws the first failure (all of them, when several) once every step had its turn.
 */
export async function cleanUp(steps: Record<string, () => unknown>, stepTimeoutMs = CLEANUP_STEP_TIMEOUT_MS): Promise<void> {
  const failures: unknown[] = [];
  for (const [name, step] of Object.entries(steps)) {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`cleanup step "${name}" did not finish within ${stepTimeoutMs} ms`)), stepTimeoutMs);
    });
    try {
      await Promise.race([Promise.resolve().then(step), timedOut]);
    } catch (error) {
      failures.push(error);
    } finally {
      clearTimeout(timer);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} cleanup steps failed`);
}

/**
 * Stops an HTTP or HTTPS server and drops its connections. A server that was never made or never
 * listened resolves at once: `new Promise((r) => server?.close(r))` would wait forever for it.
 */
export function closeServer(server: ClosableServer | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

/** Removes a temporary directory, if it was made. */
export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}
