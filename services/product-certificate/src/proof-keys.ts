import { Buffer } from 'node:buffer';
import { SignJWT, calculateJwkThumbprint, createLocalJWKSet, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { decryptPrivateKey, encryptPrivateKey } from '@c2pa-mesh/key-custody';
import { invalidArgument } from '@c2pa-mesh/errors';
import {
  findActiveProductCertificateKey,
  findProductCertificateKey,
  insertFirstProductCertificateKey,
  listPublishedProductCertificateKeys,
  rotateProductCertificateKey,
  type Database,
  type NewProductCertificateKey,
  type ProductCertificateKeyRow,
} from '@c2pa-mesh/storage';

export const PROOF_ALGORITHMS = ['ES256', 'RS256'] as const;
type SigningKey = Awaited<ReturnType<typeof importPKCS8>>;

export type ProofAlgorithm = (typeof PROOF_ALGORITHMS)[number];

export function parseProofAlgorithm(value: string, field = 'algorithm'): ProofAlgorithm {
  const algorithm = value === '' ? 'ES256' : value.toUpperCase();
  if (!(PROOF_ALGORITHMS as readonly string[]).includes(algorithm)) throw invalidArgument(`${field} must be ES256 or RS256, got "${value}"`);
  return algorithm as ProofAlgorithm;
}

/** A public key as the JWKS publishes it. */
export type PublishedJwk = JWK & { kid: string; alg: ProofAlgorithm; use: 'sig' };

export interface ProofKeyRing {
  /** Signs `claims` as a compact JWS with the active key (made on first use). */
  sign(claims: JWTPayload): Promise<{ jwt: string; kid: string }>;
  /** Makes a new key the active one; the old one stays published while proofs use it. */
  rotate(algorithm: ProofAlgorithm): Promise<ProductCertificateKeyRow>;
  /** The active key, made on first use. */
  activeKey(): Promise<ProductCertificateKeyRow>;
  /** The JWKS: the active key and the retired keys live certificates were signed with. */
  jwks(): Promise<{ keys: PublishedJwk[] }>;
  /** Checks a proof against the published keys; the payload, or the reason it fails. */
  verify(jwt: string): Promise<{ payload: JWTPayload; kid: string } | { failure: string }>;
}

/** Sealed keys carry what they are for in their associated data: a key moved to another row fails. */
function sealingContext(kid: string): string {
  return `product-certificate-proof-key:${kid}`;
}

/** A fresh key pair, its private half sealed; `kid` names the day and the key's thumbprint. */
export async function makeProofKey(algorithm: ProofAlgorithm, keyEncryptionKey: Uint8Array, now = new Date()): Promise<NewProductCertificateKey> {
  const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: true, ...(algorithm === 'RS256' ? { modulusLength: 3072 } : {}) });
  const jwk = await exportJWK(publicKey);
  const thumbprint = await calculateJwkThumbprint(jwk);
  const kid = `mc4p-${now.toISOString().slice(0, 10)}-${thumbprint.slice(0, 12)}`;
  const pkcs8 = Buffer.from((await exportPKCS8(privateKey)).replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return {
    kid,
    algorithm,
    publicJwk: { ...jwk, kid, alg: algorithm, use: 'sig' },
    encryptedPrivateKey: encryptPrivateKey(pkcs8, keyEncryptionKey, sealingContext(kid)),
  };
}

function toPem(der: Uint8Array): string {
  const body = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN PRIVATE KEY-----\n${body}${body.endsWith('\n') ? '' : '\n'}-----END PRIVATE KEY-----\n`;
}

export interface ProofKeyRingOptions {
  db: Database;
  keyEncryptionKey: Uint8Array;
  /** Algorithm of the first key. Default ES256. */
  algorithm?: ProofAlgorithm;
}

export function createProofKeyRing(options: ProofKeyRingOptions): ProofKeyRing {
  const { db, keyEncryptionKey } = options;
  // Opened private keys by kid: a key never changes once made.
  const opened = new Map<string, Promise<SigningKey>>();

  function privateKeyOf(row: ProductCertificateKeyRow): Promise<SigningKey> {
    let key = opened.get(row.kid);
    if (!key) {
      key = importPKCS8(toPem(decryptPrivateKey(row.encrypted_private_key, keyEncryptionKey, sealingContext(row.kid))), row.algorithm);
      key.catch(() => opened.delete(row.kid));
      opened.set(row.kid, key);
    }
    return key;
  }

  async function activeKey(): Promise<ProductCertificateKeyRow> {
    const active = await findActiveProductCertificateKey(db);
    if (active) return active;
    return insertFirstProductCertificateKey(db, await makeProofKey(options.algorithm ?? 'ES256', keyEncryptionKey));
  }

  async function jwks(): Promise<{ keys: PublishedJwk[] }> {
    await activeKey();
    const rows = await listPublishedProductCertificateKeys(db);
    return { keys: rows.map((row) => row.public_jwk as PublishedJwk) };
  }

  return {
    activeKey,
    jwks,
    async sign(claims) {
      const key = await activeKey();
      const jwt = await new SignJWT(claims).setProtectedHeader({ alg: key.algorithm, kid: key.kid, typ: 'JWT' }).sign(await privateKeyOf(key));
      return { jwt, kid: key.kid };
    },
    async rotate(algorithm) {
      return rotateProductCertificateKey(db, await makeProofKey(algorithm, keyEncryptionKey));
    },
    async verify(jwt) {
      let kid = '';
      try {
        const header = JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid?: unknown };
        kid = typeof header.kid === 'string' ? header.kid : '';
      } catch {
        return { failure: 'the proof is not a compact JWS' };
      }
      const row = kid === '' ? undefined : await findProductCertificateKey(db, kid);
      if (!row) return { failure: `the proof names key "${kid}", which this mesh does not know` };
      try {
        const { payload } = await jwtVerify(jwt, createLocalJWKSet({ keys: [row.public_jwk as JWK] }), { algorithms: [row.algorithm] });
        return { payload, kid };
      } catch (error) {
        return { failure: `the proof does not verify with key ${kid}: ${(error as Error).message}` };
      }
    },
  };
}
