import type { KeyObject } from 'node:crypto';
import { invalidArgument } from '@c2pa-mesh/errors';
import { keyAlgorithmOf, type KeyAlgorithm } from '@c2pa-mesh/key-custody';
import { publicKeyFromSpki } from './algorithms.js';

/**
 * The key policy for anything the CA certifies: EC P-256 or P-384, RSA of 2048 bits or more
 * (signing with PS256), or Ed25519. Returns the algorithm the key will sign with.
 */
export function checkSubjectPublicKey(spki: Uint8Array): KeyAlgorithm {
  let key: KeyObject;
  try {
    key = publicKeyFromSpki(spki);
  } catch (cause) {
    throw invalidArgument('the subject public key is not a readable DER SubjectPublicKeyInfo', { cause });
  }
  return keyAlgorithmOf(key);
}
