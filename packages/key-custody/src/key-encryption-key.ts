import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';
import { KEY_ENCRYPTION_KEY_LENGTH } from './key-sealing.js';
import { createPrivateFileIfAbsent } from './private-key-file.js';

export interface LoadKeyEncryptionKeyOptions {
  dataDir: string;
  env?: NodeJS.ProcessEnv;
}

/** The key-encryption key's place in the data dir when neither variable is set. */
export function keyEncryptionKeyPath(dataDir: string): string {
  return path.join(dataDir, 'pki', 'kek.bin');
}

function fromBase64(text: string, source: string): Uint8Array {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw invalidArgument(`${source} must hold ${KEY_ENCRYPTION_KEY_LENGTH} bytes in base64`);
  }
  const bytes = new Uint8Array(Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64'));
  if (bytes.length !== KEY_ENCRYPTION_KEY_LENGTH) {
    throw invalidArgument(`${source} must decode to ${KEY_ENCRYPTION_KEY_LENGTH} bytes, got ${bytes.length}`);
  }
  return bytes;
}

async function readKeyFile(file: string, source: string): Promise<Uint8Array> {
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch (cause) {
    throw failedPrecondition(`${source}: cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  // Raw 32 bytes (what this module writes) or the same in base64 text (what people paste).
  if (content.length === KEY_ENCRYPTION_KEY_LENGTH) return new Uint8Array(content);
  return fromBase64(content.toString('utf8'), `${source} (${file})`);
}

/**
 * The key-encryption key that seals private keys at rest, from (first match wins):
 * `MESH_KEK` (base64 of 32 bytes), the file named by `MESH_KEK_FILE`, or `<dataDir>/pki/kek.bin`,
 * created with mode 0600 on first use.
 */
export async function loadKeyEncryptionKey(options: LoadKeyEncryptionKeyOptions): Promise<Uint8Array> {
  const env = options.env ?? process.env;
  if (env.MESH_KEK) return fromBase64(env.MESH_KEK, 'MESH_KEK');
  if (env.MESH_KEK_FILE) return readKeyFile(env.MESH_KEK_FILE, 'MESH_KEK_FILE');
  const file = keyEncryptionKeyPath(options.dataDir);
  await createPrivateFileIfAbsent(file, randomBytes(KEY_ENCRYPTION_KEY_LENGTH));
  return readKeyFile(file, 'the data dir key-encryption key');
}
