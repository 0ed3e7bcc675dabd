import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

const PRIVATE_FILE_MODE = 0o600;
const PRIVATE_DIR_MODE = 0o700;

function temporaryPathBeside(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Writes `data` to a fresh 0600 file beside `target` and flushes it; returns that file's path. */
async function writePrivateTemporary(target: string, data: Uint8Array | string): Promise<string> {
  await mkdir(path.dirname(target), { recursive: true, mode: PRIVATE_DIR_MODE });
  const temporary = temporaryPathBeside(target);
  // Created with 0600 from the start, so the secret is never readable by others, not even briefly.
  const handle = await open(temporary, 'wx', PRIVATE_FILE_MODE);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  return temporary;
}

/** Writes a secret file atomically with mode 0600, replacing any previous one. */
export async function writePrivateFile(target: string, data: Uint8Array | string): Promise<void> {
  const temporary = await writePrivateTemporary(target, data);
  try {
    await rename(temporary, target);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/**
 * Writes a secret file atomically with mode 0600 unless one exists already. Returns false when
 * another writer (or an earlier run) got there first; the existing file is left as it is.
 */
export async function createPrivateFileIfAbsent(target: string, data: Uint8Array | string): Promise<boolean> {
  const temporary = await writePrivateTemporary(target, data);
  try {
    // link() never replaces an existing file, unlike rename(): concurrent first runs agree on one file.
    await link(temporary, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

function pemBlock(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Writes a DER PKCS#8 private key as PEM (`PRIVATE KEY`), mode 0600, atomically. */
export async function writePrivateKeyPem(target: string, pkcs8: Uint8Array): Promise<void> {
  await writePrivateFile(target, pemBlock('PRIVATE KEY', pkcs8));
}
