import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';

/**
 * Private keys at rest. Layout of a sealed key (all lengths fixed by the version byte):
 *
 *   'M' 'K' | version 0x01 | iv (12) | tag (16) | AES-256-GCM ciphertext
 *
 * The optional associated data (e.g. the certificate id the key belongs to) is authenticated but
 * not stored: a sealed key copied onto another record fails to open.
 */
const MAGIC = [0x4d, 0x4b] as const;
const VERSION_AES_256_GCM = 0x01;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const HEADER_LENGTH = MAGIC.length + 1 + IV_LENGTH + TAG_LENGTH;
export const KEY_ENCRYPTION_KEY_LENGTH = 32;

function checkKek(kek: Uint8Array): void {
  if (kek.length !== KEY_ENCRYPTION_KEY_LENGTH) {
    throw invalidArgument(`the key-encryption key must be ${KEY_ENCRYPTION_KEY_LENGTH} bytes, got ${kek.length}`);
  }
}

export function encryptPrivateKey(pkcs8: Uint8Array, kek: Uint8Array, associatedData?: string): Uint8Array {
  checkKek(kek);
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_LENGTH });
  if (associatedData !== undefined) cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
  const sealed = new Uint8Array(HEADER_LENGTH + ciphertext.length);
  sealed.set(MAGIC, 0);
  sealed[MAGIC.length] = VERSION_AES_256_GCM;
  sealed.set(iv, MAGIC.length + 1);
  sealed.set(cipher.getAuthTag(), MAGIC.length + 1 + IV_LENGTH);
  sealed.set(ciphertext, HEADER_LENGTH);
  return sealed;
}

export function decryptPrivateKey(sealed: Uint8Array, kek: Uint8Array, associatedData?: string): Uint8Array {
  checkKek(kek);
  if (sealed.length <= HEADER_LENGTH || sealed[0] !== MAGIC[0] || sealed[1] !== MAGIC[1]) {
    throw invalidArgument('the stored private key is not a sealed key (wrong header or too short)');
  }
  const version = sealed[MAGIC.length];
  if (version !== VERSION_AES_256_GCM) {
    throw invalidArgument(`the stored private key uses sealing version ${version}, which this build does not know`);
  }
  const iv = sealed.subarray(MAGIC.length + 1, MAGIC.length + 1 + IV_LENGTH);
  const tag = sealed.subarray(MAGIC.length + 1 + IV_LENGTH, HEADER_LENGTH);
  const decipher = createDecipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_LENGTH });
  decipher.setAuthTag(tag);
  if (associatedData !== undefined) decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  try {
    const plain = Buffer.concat([decipher.update(sealed.subarray(HEADER_LENGTH)), decipher.final()]);
    return new Uint8Array(plain.buffer, plain.byteOffset, plain.byteLength);
  } catch (cause) {
    throw failedPrecondition(
      'cannot open the stored private key: the key-encryption key differs from the one that sealed it, or the record was altered',
      { cause },
    );
  }
}
