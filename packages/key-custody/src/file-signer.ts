import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';
import { createKeyObjectSigner, type KeyAlgorithm, type KeySigner } from './key-signer.js';

/**
 * A signer over a PEM private key on disk (PKCS#8 `PRIVATE KEY`; SEC 1 and PKCS#1 PEM are read
 * too). The file is read once; the key then stays in this process.
 */
export async function createFileSigner(pemPath: string, algorithm?: KeyAlgorithm): Promise<KeySigner> {
  let pem: string;
  try {
    pem = await readFile(pemPath, 'utf8');
  } catch (cause) {
    throw failedPrecondition(`cannot read the private key file ${pemPath}: ${(cause as Error).message}`, { cause });
  }
  if (pem.includes('ENCRYPTED PRIVATE KEY')) {
    throw invalidArgument(`the private key in ${pemPath} is password-protected; store it unencrypted with mode 0600`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw invalidArgument(`${pemPath} does not hold a PEM private key`, { cause });
  }
  return createKeyObjectSigner(key, algorithm);
}
