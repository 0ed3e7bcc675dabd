import { mkdtemp, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanUp, closeServer, removeDir } from './cleanup.js';

const exists = (file: string) => stat(file).then(() => true, () => false);

describe('cleanUp', () => {
  it('runs every step in order even when one throws, then throws that failure', async () => {
    const ran: string[] = [];
    const dir = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-cleanup-test-'));
    const failure = cleanUp({
      first: () => void ran.push('first'),
      broken: () => {
        ran.push('broken');
        throw new Error('stop() of something never started');
      },
      dir: async () => {
        await removeDir(dir);
        ran.push('dir');
      },
    });
    await expect(failure).rejects.toThrow('stop() of something never started');
    expect(ran).toEqual(['first', 'broken', 'dir']);
    expect(await exists(dir)).toBe(false);
  });

  it('gives up on a step that never settles, names it, and still runs the next ones', async () => {
    const ran: string[] = [];
    const started = Date.now();
    const failure = cleanUp(
      {
        hangs: () => new Promise(() => {}),
        after: () => void ran.push('after'),
      },
      200,
    );
    await expect(failure).rejects.toThrow('cleanup step "hangs" did not finish within 200 ms');
    expect(ran).toEqual(['after']);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('reports every failure when several steps fail', async () => {
    const failure = cleanUp({ a: () => Promise.reject(new Error('a')), b: () => Promise.reject(new Error('b')) });
    await expect(failure).rejects.toMatchObject({ errors: [new Error('a'), new Error('b')] });
  });
});

describe('closeServer', () => {
  it('resolves at once for a server never made or never listening (where server?.close(resolve) hangs)', async () => {
    let never: Server | undefined;
    await expect(cleanUp({ server: () => closeServer(never) }, 1_000)).resolves.toBeUndefined();
    await expect(cleanUp({ server: () => closeServer(createServer()) }, 1_000)).resolves.toBeUndefined();
    // What the hooks did before: waits for a callback that never comes.
    await expect(cleanUp({ server: () => new Promise((resolve) => never?.close(resolve)) }, 200)).rejects.toThrow('did not finish');
  });

  it('closes a listening server together with a kept-alive connection', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'keep-alive' } });
    expect(await response.text()).toBe('ok');
    await cleanUp({ server: () => closeServer(server) }, 5_000);
    expect(server.listening).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it('removeDir ignores a directory never made', async () => {
    await expect(removeDir(undefined)).resolves.toBeUndefined();
  });
});
