import type { KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { invalidArgument } from '@c2pa-mesh/errors';
import { keyAlgorithmOf, type KeyAlgorithm } from '@c2pa-mesh/key-custody';
import { publicKeyFromSpki } from './algorithms.js';

/**
 * Algorithms of keys already checked, by SubjectPublicKeyInfo bytes: the answer is a function of
 * those bytes, and with OpenSSL 3 decoding a key costs hundreds of microseconds, while a CA checks
 * the same key several times per certificate (CSR, issuance, record). Bounded.
 */
const MAX_CHECKED = 4096;
const checked = new LRUCache<string, KeyAlgorithm>({ max: MAX_CHECKED });

/**
 * Reads a subject public key once and applies the key policy: EC P-256 or P-384, RSA of 2048 bits
 * or more (signing with PS256), or Ed25519. Returns the key and the algorithm it will sign with.
 */
export function readSubjectPublicKey(spki: Uint8Array): { key: KeyObject; algorithm: KeyAlgorithm } {
  let key: KeyObject;
  try {
    key = publicKeyFromSpki(spki);
  } catch (cause) {
    throw invalidArgument('the subject public key is not a readable DER SubjectPublicKeyInfo', { cause });
  }
  const algorithm = keyAlgorithmOf(key);
  checked.set(Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString('base64'), algorithm);
  return { key, algorithm };
}

/** The key policy for anything the CA certifies (see readSubjectPublicKey); returns the algorithm. */
export function checkSubjectPublicKey(spki: Uint8Array): KeyAlgorithm {
  const known = checked.get(Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString('base64'));
  return known ?? readSubjectPublicKey(spki).algorithm;
}
