export {
  KEY_ALGORITHMS,
  MIN_RSA_MODULUS_BITS,
  createKeyObjectSigner,
  createMemorySigner,
  generateKeyPair,
  isKeyAlgorithm,
  keyAlgorithmOf,
  type KeyAlgorithm,
  type KeySigner,
  type SignOptions,
} from './key-signer.js';
export { createFileSigner } from './file-signer.js';
export { openSigner } from './open-signer.js';
export { KEY_ENCRYPTION_KEY_LENGTH, decryptPrivateKey, encryptPrivateKey } from './key-sealing.js';
export { keyEncryptionKeyPath, loadKeyEncryptionKey, type LoadKeyEncryptionKeyOptions } from './key-encryption-key.js';
export { createPrivateFileIfAbsent, writePrivateFile, writePrivateKeyPem } from './private-key-file.js';
