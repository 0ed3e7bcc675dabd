import { MeshError, invalidArgument } from '@c2pa-mesh/errors';
import { createFileSigner } from './file-signer.js';
import { generateKeyPair, type KeyAlgorithm, type KeySigner } from './key-signer.js';

/**
 * Opens a signer backend by scheme, the way sigstore's timestamp-authority does:
 * - `memory:` a fresh key in this process (tests, first runs); `algorithm` defaults to ES256;
 * - `file:<path>` a PEM private key on disk;
 * - `kms:…` reserved for a KMS or HSM backend: nothing here talks to one yet.
 */
export async function openSigner(uri: string, algorithm?: KeyAlgorithm): Promise<KeySigner> {
  const colon = uri.indexOf(':');
  const scheme = colon < 0 ? '' : uri.slice(0, colon);
  const rest = colon < 0 ? '' : uri.slice(colon + 1);
  switch (scheme) {
    case 'memory':
      if (rest !== '') throw invalidArgument(`"${uri}": the memory signer takes no argument; write "memory:"`);
      return (await generateKeyPair(algorithm ?? 'ES256')).signer;
    case 'file': {
      // Accept both `file:/abs/path` and the URL form `file:///abs/path`.
      const path = rest.startsWith('//') ? decodeURIComponent(new URL(uri).pathname) : rest;
      if (path === '') throw invalidArgument(`"${uri}": name the PEM key file, e.g. "file:/etc/mesh/tsa-key.pem"`);
      return createFileSigner(path, algorithm);
    }
    case 'kms':
      throw new MeshError(
        'unimplemented',
        `"${uri}": KMS/HSM signers are not available in this build; use "file:<path>" or "memory:"`,
      );
    default:
      throw invalidArgument(`"${uri}" is not a signer URI; use "memory:", "file:<path>" or "kms:<key>"`);
  }
}
