import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPair as generateNodeKeyPair,
  sign as signWithKey,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import { invalidArgument } from '@c2pa-mesh/errors';

export type KeyAlgorithm = 'ES256' | 'ES384' | 'PS256' | 'ED25519';

export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['ES256', 'ES384', 'PS256', 'ED25519'];

export interface SignOptions {
  /** ECDSA only: 'der' for X.509, CMS and OCSP; 'ieee-p1363' (r || s) for COSE and JOSE. Default 'der'. */
  ecdsaEncoding?: 'der' | 'ieee-p1363';
}

/** A private key used by reference: the key material may live in memory, a file, or a KMS/HSM. */
export interface KeySigner {
  readonly algorithm: KeyAlgorithm;
  /** DER SubjectPublicKeyInfo of the key. */
  readonly publicKeySpki: Uint8Array;
  /**
   * Signs `data`, hashing as the algorithm defines: SHA-256 for ES256 and PS256, SHA-384 for
   * ES384; Ed25519 signs the message itself.
   */
  sign(data: Uint8Array, options?: SignOptions): Promise<Uint8Array>;
}

/** RSA keys below this size are refused (C2PA and CA/B Forum minimum). */
export const MIN_RSA_MODULUS_BITS = 2048;
/** PS256 as COSE (RFC 8230) and the C2PA specification define it: salt length = hash length. */
const PSS_SALT_LENGTH = 32;

const generateKeyPairAsync = promisify(generateNodeKeyPair);

export function isKeyAlgorithm(value: unknown): value is KeyAlgorithm {
  return typeof value === 'string' && (KEY_ALGORITHMS as readonly string[]).includes(value);
}

/** The algorithm a key can sign with, or a message saying why it cannot be used. */
export function keyAlgorithmOf(key: KeyObject): KeyAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      if (details.namedCurve === 'prime256v1') return 'ES256';
      if (details.namedCurve === 'secp384r1') return 'ES384';
      throw invalidArgument(
        `EC keys on curve ${details.namedCurve ?? 'unknown'} are not supported; use P-256 (ES256) or P-384 (ES384)`,
      );
    case 'rsa':
    case 'rsa-pss': {
      const bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_MODULUS_BITS) {
        throw invalidArgument(`RSA keys must have at least ${MIN_RSA_MODULUS_BITS} bits; this one has ${bits}`);
      }
      return 'PS256';
    }
    case 'ed25519':
      return 'ED25519';
    default:
      throw invalidArgument(
        `keys of type ${key.asymmetricKeyType ?? 'unknown'} are not supported; use EC P-256, EC P-384, RSA (2048 bits or more) or Ed25519`,
      );
  }
}

function toBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength));
}

/** Signs with a node:crypto private key held in this process. */
class KeyObjectSigner implements KeySigner {
  readonly algorithm: KeyAlgorithm;
  readonly publicKeySpki: Uint8Array;
  readonly #key: KeyObject;

  constructor(key: KeyObject, algorithm: KeyAlgorithm) {
    this.#key = key;
    this.algorithm = algorithm;
    this.publicKeySpki = toBytes(createPublicKey(key).export({ type: 'spki', format: 'der' }));
  }

  async sign(data: Uint8Array, options: SignOptions = {}): Promise<Uint8Array> {
    // The synchronous call is the fast one (no thread-pool hop); a signature takes tens of µs.
    switch (this.algorithm) {
      case 'ES256':
      case 'ES384':
        return signWithKey(this.algorithm === 'ES256' ? 'sha256' : 'sha384', data, {
          key: this.#key,
          dsaEncoding: options.ecdsaEncoding ?? 'der',
        });
      case 'PS256':
        return signWithKey('sha256', data, {
          key: this.#key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: PSS_SALT_LENGTH,
        });
      case 'ED25519':
        return signWithKey(null, data, this.#key);
    }
  }
}

/** Wraps a private key object; checks that it can sign with `algorithm` (inferred when omitted). */
export function createKeyObjectSigner(key: KeyObject, algorithm?: KeyAlgorithm): KeySigner {
  if (key.type !== 'private') throw invalidArgument('a signer needs a private key, not a public one');
  const keyAlgorithm = keyAlgorithmOf(key);
  if (algorithm !== undefined && algorithm !== keyAlgorithm) {
    throw invalidArgument(`the private key is a ${keyAlgorithm} key, not ${algorithm}`);
  }
  return new KeyObjectSigner(key, keyAlgorithm);
}

/** A signer over a DER PKCS#8 private key held in memory; the algorithm is inferred when omitted. */
export function createMemorySigner(privateKeyPkcs8: Uint8Array, algorithm?: KeyAlgorithm): KeySigner {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(privateKeyPkcs8), format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw invalidArgument('the private key is not a readable DER PKCS#8 PrivateKeyInfo', { cause });
  }
  return createKeyObjectSigner(key, algorithm);
}

/** Generates a fresh key pair: P-256, P-384, RSA 2048 (for PSS) or Ed25519. */
export async function generateKeyPair(
  algorithm: KeyAlgorithm,
): Promise<{ signer: KeySigner; privateKeyPkcs8: Uint8Array }> {
  let privateKey: KeyObject;
  switch (algorithm) {
    case 'ES256':
      ({ privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' }));
      break;
    case 'ES384':
      ({ privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-384' }));
      break;
    case 'PS256':
      // A plain rsaEncryption key: its SubjectPublicKeyInfo is the one every verifier reads.
      ({ privateKey } = await generateKeyPairAsync('rsa', { modulusLength: MIN_RSA_MODULUS_BITS }));
      break;
    case 'ED25519':
      ({ privateKey } = await generateKeyPairAsync('ed25519'));
      break;
    default:
      throw invalidArgument(`unknown key algorithm "${String(algorithm)}"; use one of ${KEY_ALGORITHMS.join(', ')}`);
  }
  return {
    signer: new KeyObjectSigner(privateKey, algorithm),
    privateKeyPkcs8: toBytes(privateKey.export({ type: 'pkcs8', format: 'der' })),
  };
}
