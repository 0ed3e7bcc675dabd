import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, type JWK } from 'jose';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, ACCESS_TOKEN_TYPE } from '@c2pa-mesh/auth';
import { decryptPrivateKey, encryptPrivateKey } from '@c2pa-mesh/key-custody';
import { type AccountSigningKeyRow, type Database, findActiveAccountSigningKey, insertFirstAccountSigningKey, listAccountSigningKeys } from '@c2pa-mesh/storage';

const ALGORITHM = 'ES256';
type SigningKey = Awaited<ReturnType<typeof importPKCS8>>;

/** Sealed keys carry what they are for in their associated data: a key moved to another row fails. */
function sealingContext(kid: string): string {
  return `account-signing-key:${kid}`;
}

function toPem(der: Uint8Array): string {
  const body = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN PRIVATE KEY-----\n${body}${body.endsWith('\n') ? '' : '\n'}-----END PRIVATE KEY-----\n`;
}

export interface AccessTokenKeys {
  /** A signed access token for a user's session. */
  issue(claims: { userId: string; sessionId: string; email: string; projectId?: string; ttlSeconds: number }): Promise<string>;
  /** The public keys, as `/.well-known/jwks.json` publishes them. */
  jwks(): Promise<{ keys: JWK[] }>;
}

/** The mesh key that signs people's access tokens, made (and sealed in the database) on first use. */
export function createAccessTokenKeys(db: Database, keyEncryptionKey: Uint8Array): AccessTokenKeys {
  const opened = new Map<string, Promise<SigningKey>>();

  async function activeKey(): Promise<AccountSigningKeyRow> {
    const active = await findActiveAccountSigningKey(db);
    if (active) return active;
    const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = `account-${new Date().toISOString().slice(0, 10)}-${(await calculateJwkThumbprint(jwk)).slice(0, 12)}`;
    const pkcs8 = Buffer.from((await exportPKCS8(privateKey)).replace(/-----[^-]+-----|\s/g, ''), 'base64');
    return insertFirstAccountSigningKey(db, {
      kid,
      algorithm: ALGORITHM,
      publicJwk: { ...jwk, kid, alg: ALGORITHM, use: 'sig' },
      encryptedPrivateKey: encryptPrivateKey(pkcs8, keyEncryptionKey, sealingContext(kid)),
    });
  }

  function privateKeyOf(row: AccountSigningKeyRow): Promise<SigningKey> {
    let key = opened.get(row.kid);
    if (!key) {
      key = importPKCS8(toPem(decryptPrivateKey(row.encrypted_private_key, keyEncryptionKey, sealingContext(row.kid))), row.algorithm);
      key.catch(() => opened.delete(row.kid));
      opened.set(row.kid, key);
    }
    return key;
  }

  return {
    async issue({ userId, sessionId, email, projectId, ttlSeconds }) {
      const key = await activeKey();
      return new SignJWT({ sid: sessionId, email, ...(projectId ? { pid: projectId } : {}) })
        .setProtectedHeader({ alg: key.algorithm, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
        .setIssuer(ACCESS_TOKEN_ISSUER)
        .setAudience(ACCESS_TOKEN_AUDIENCE)
        .setSubject(userId)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .setJti(randomBytes(12).toString('base64url'))
        .sign(await privateKeyOf(key));
    },
    async jwks() {
      await activeKey();
      const rows = await listAccountSigningKeys(db);
      return { keys: rows.map((row) => row.public_jwk as JWK) };
    },
  };
}
