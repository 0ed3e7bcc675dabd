import { constants, createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { KeyAlgorithm } from '@c2pa-mesh/key-custody';
import {
  DerError,
  NULL,
  TAG,
  children,
  contentOf,
  explicit,
  integer,
  oid,
  readOid,
  readSmallInteger,
  sequence,
  type DerElement,
} from './der.js';
import { OID } from './oids.js';

export type DigestAlgorithm = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export const DIGEST_LENGTH: Record<DigestAlgorithm, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

const DIGEST_OIDS: Record<DigestAlgorithm, string> = {
  sha1: OID.sha1,
  sha256: OID.sha256,
  sha384: OID.sha384,
  sha512: OID.sha512,
};

export function digestAlgorithmFromOid(dotted: string): DigestAlgorithm | undefined {
  for (const [name, value] of Object.entries(DIGEST_OIDS)) if (value === dotted) return name as DigestAlgorithm;
  return undefined;
}

export function digest(algorithm: DigestAlgorithm, data: Uint8Array): Uint8Array {
  const hash = createHash(algorithm).update(data).digest();
  return new Uint8Array(hash.buffer, hash.byteOffset, hash.byteLength);
}

/**
 * AlgorithmIdentifier for a digest. SHA-2 parameters are absent (RFC 5754 §2); OCSP CertIDs
 * conventionally carry NULL, which is what clients such as openssl send and compare against.
 */
export function digestAlgorithmIdentifier(algorithm: DigestAlgorithm, options: { nullParameters?: boolean } = {}): Uint8Array {
  return options.nullParameters ? sequence(oid(DIGEST_OIDS[algorithm]), NULL) : sequence(oid(DIGEST_OIDS[algorithm]));
}

/** The digest CMS signed attributes use with each key algorithm (Ed25519 with SHA-512, RFC 8419 §3.1). */
export function cmsDigestAlgorithm(algorithm: KeyAlgorithm): 'sha256' | 'sha384' | 'sha512' {
  switch (algorithm) {
    case 'ES256':
    case 'PS256':
      return 'sha256';
    case 'ES384':
      return 'sha384';
    case 'ED25519':
      return 'sha512';
  }
}

const SIGNATURE_ALGORITHM_IDENTIFIERS: Record<KeyAlgorithm, Uint8Array> = {
  ES256: sequence(oid(OID.ecdsaWithSha256)),
  ES384: sequence(oid(OID.ecdsaWithSha384)),
  // RSASSA-PSS with SHA-256, MGF1(SHA-256) and a 32-byte salt (RFC 4055 §3.1); trailerField default.
  PS256: sequence(
    oid(OID.rsassaPss),
    sequence(
      explicit(0, sequence(oid(OID.sha256), NULL)),
      explicit(1, sequence(oid(OID.mgf1), sequence(oid(OID.sha256), NULL))),
      explicit(2, integer(32)),
    ),
  ),
  ED25519: sequence(oid(OID.ed25519)),
};

/** The DER AlgorithmIdentifier of signatures a KeySigner of this algorithm produces. */
export function signatureAlgorithmIdentifier(algorithm: KeyAlgorithm): Uint8Array {
  return SIGNATURE_ALGORITHM_IDENTIFIERS[algorithm];
}

export function publicKeyFromSpki(spki: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
}

function pssParameters(parameters: DerElement | undefined): { hash: DigestAlgorithm; saltLength: number } {
  // RFC 4055 defaults: SHA-1, MGF1 with SHA-1, salt 20.
  let hash: DigestAlgorithm = 'sha1';
  let mgfHash: DigestAlgorithm = 'sha1';
  let saltLength = 20;
  if (parameters && parameters.tag === TAG.SEQUENCE) {
    for (const field of children(parameters)) {
      const [inner] = children(field);
      if (field.tag === 0xa0) {
        hash = digestAlgorithmFromOid(readOid(children(inner)[0])) ?? fail('unsupported PSS hash');
      } else if (field.tag === 0xa1) {
        const [mgfOid, mgfParams] = children(inner);
        if (readOid(mgfOid) !== OID.mgf1) fail('unsupported PSS mask generation function');
        mgfHash = digestAlgorithmFromOid(readOid(children(mgfParams)[0])) ?? fail('unsupported MGF1 hash');
      } else if (field.tag === 0xa2) {
        saltLength = readSmallInteger(inner, 'PSS salt length');
      }
    }
  }
  if (mgfHash !== hash) fail('PSS with different message and MGF1 hashes is not supported');
  return { hash, saltLength };
}

function fail(message: string): never {
  throw new DerError(message);
}

/**
 * Verifies `signature` over `data` with the key in `spki`, for the signature AlgorithmIdentifier
 * `algorithm` (as found in certificates and CSRs). Throws DerError for algorithms not supported.
 */
export function verifySignature(
  spki: Uint8Array | KeyObject,
  algorithm: DerElement,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const key = spki instanceof Uint8Array ? publicKeyFromSpki(spki) : spki;
  const [algorithmOid, parameters] = children(algorithm);
  const dotted = readOid(algorithmOid);
  switch (dotted) {
    case OID.ecdsaWithSha256:
    case OID.ecdsaWithSha384:
    case OID.ecdsaWithSha512: {
      const hash = dotted === OID.ecdsaWithSha256 ? 'sha256' : dotted === OID.ecdsaWithSha384 ? 'sha384' : 'sha512';
      return verify(hash, data, { key, dsaEncoding: 'der' }, signature);
    }
    case OID.sha256WithRSAEncryption:
    case OID.sha384WithRSAEncryption:
    case OID.sha512WithRSAEncryption: {
      const hash =
        dotted === OID.sha256WithRSAEncryption ? 'sha256' : dotted === OID.sha384WithRSAEncryption ? 'sha384' : 'sha512';
      return verify(hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    }
    case OID.rsassaPss: {
      const { hash, saltLength } = pssParameters(parameters);
      if (hash === 'sha1') fail('RSASSA-PSS with SHA-1 is not accepted');
      return verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
    }
    case OID.ed25519:
      return verify(null, data, key, signature);
    default:
      throw new DerError(`signature algorithm ${dotted} is not supported`);
  }
}

/** The subjectPublicKey bits (without the unused-bits byte) of a DER SubjectPublicKeyInfo. */
export function subjectPublicKeyBits(spki: DerElement): Uint8Array {
  const [, bits] = children(spki);
  if (!bits || bits.tag !== TAG.BIT_STRING) throw new DerError('SubjectPublicKeyInfo without a public key');
  return contentOf(bits).subarray(1);
}
