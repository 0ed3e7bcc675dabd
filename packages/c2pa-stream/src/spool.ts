import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/**
 * An upload on its way to disk: a private file (0600) in a directory of its own under `dir`,
 * hashed as it is written, removed by `remove()` however the call ends.
 */
export interface Spool {
  path: string;
  /** Bytes written so far. */
  size: number;
  write(chunk: Uint8Array): Promise<void>;
  /** Closes the file; `sha256:<hex>` of everything written. */
  finish(): Promise<string>;
  /** Closes and removes the file and its directory; safe to call more than once. */
  remove(): Promise<void>;
}

export async function createSpool(dir: string): Promise<Spool> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const own = await mkdtemp(path.join(dir, 'upload-'));
  const file = path.join(own, 'asset');
  let handle: FileHandle | undefined;
  const close = async () => {
    const open = handle;
    handle = undefined;
    await open?.close().catch(() => undefined);
  };
  const remove = async () => {
    await close();
    await rm(own, { recursive: true, force: true });
  };
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (error) {
    await remove();
    throw error;
  }
  const hash = createHash('sha256');
  const spool: Spool = {
    path: file,
    size: 0,
    async write(chunk) {
      if (handle === undefined) throw new Error('the spool is closed');
      for (let at = 0; at < chunk.length; ) {
        const { bytesWritten } = await handle.write(chunk, at, chunk.length - at);
        at += bytesWritten;
      }
      hash.update(chunk);
      spool.size += chunk.length;
    },
    async finish() {
      await close();
      return `sha256:${hash.digest('hex')}`;
    },
    remove,
  };
  return spool;
}
