import { LRUCache } from 'lru-cache';
import { decodeProtectedHeader, errors, importJWK, jwtVerify, type CryptoKey, type JWK } from 'jose';
import { notFound, permissionDenied, unauthenticated } from '@c2pa-mesh/errors';
import { type Database, findAccountSession, findAccountSigningKey, findProjectRole, findUserById } from '@c2pa-mesh/storage';
import type { Identity } from './identity.js';
import { DEFAULT_MAX_ASSET_BYTES, DEFAULT_REQUESTS_PER_MINUTE } from './limits.js';
import { ROLE_SCOPES, isOrganizationRole } from './scopes.js';

/** `iss` and `aud` of the access tokens this mesh makes for people (AccountService/Login). */
export const ACCESS_TOKEN_ISSUER = 'c2pa-mesh';
export const ACCESS_TOKEN_AUDIENCE = 'c2pa-mesh';
/** The JOSE `typ` of access tokens (RFC 9068), so that no other JWT of the mesh passes for one. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** A compact JWS with a JSON header: how a bearer access token is told apart from an API key. */
export const ACCESS_TOKEN_SHAPE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Public keys never change once made: kept by kid. */
const KEYS_KEPT = 64;

/**
 * Checks a person's access token: the signature against the mesh's account signing keys (their
 * public halves, in the database), issuer, audience, type and expiry; then that its session has
 * not ended and its account is active, asked of the database on every call like API keys, so that
 * a logout or a revoked session stops the token at once.
 */
export function createAccessTokenVerifier(db: Database) {
  const keys = new LRUCache<string, Promise<{ key: CryptoKey | Uint8Array; algorithm: string } | undefined>>({ max: KEYS_KEPT });

  function keyOf(kid: string) {
    let key = keys.get(kid);
    if (!key) {
      key = (async () => {
        const row = await findAccountSigningKey(db, kid);
        if (!row) return undefined;
        return { key: await importJWK(row.public_jwk as JWK, row.algorithm), algorithm: row.algorithm };
      })();
      // An unknown kid is not remembered: a key made by another instance may appear later.
      key.then((found) => (found ? undefined : keys.delete(kid)), () => keys.delete(kid));
      keys.set(kid, key);
    }
    return key;
  }

  return {
    /** `chosenProject`: the project a token made for none acts on in this call (CallerCredentials.projectId). */
    async resolve(token: string, chosenProject?: string): Promise<Identity> {
      let kid: string | undefined;
      try {
        kid = decodeProtectedHeader(token).kid;
      } catch {
        throw unauthenticated('invalid access token');
      }
      const key = kid ? await keyOf(kid) : undefined;
      if (!key) throw unauthenticated('invalid access token: not signed by a key of this mesh');
      let payload;
      try {
        ({ payload } = await jwtVerify(token, key.key, {
          issuer: ACCESS_TOKEN_ISSUER,
          audience: ACCESS_TOKEN_AUDIENCE,
          typ: ACCESS_TOKEN_TYPE,
          algorithms: [key.algorithm],
          requiredClaims: ['sub', 'exp', 'iat'],
        }));
      } catch (err) {
        if (err instanceof errors.JWTExpired) throw unauthenticated('this access token has expired: get a new one with AccountService/Refresh');
        throw unauthenticated('invalid access token');
      }
      const sessionId = typeof payload.sid === 'string' ? payload.sid : '';
      // People act through organizations: a token made for no project holds no scope.
      const tokenProject = typeof payload.pid === 'string' && payload.pid !== '' ? payload.pid : undefined;
      const chosen = chosenProject === undefined || chosenProject === '' ? undefined : chosenProject;
      if (tokenProject !== undefined && chosen !== undefined && chosen !== tokenProject) {
        throw permissionDenied(`this access token acts on project ${tokenProject}; it cannot act on another one`);
      }
      return personIdentity(db, payload.sub!, sessionId, tokenProject ?? chosen, 'token', tokenProject === undefined);
    },
  };
}

/**
 * A person's identity for one of their account sessions, acting on `projectId` with the scopes
 * their role gives there (none without a project). The session, the account and the role are
 * read now, not taken from the credential: a logout, a disabled account, a removed member or a
 * lowered role count at once. `via` says what carried the session, for the messages.
 */
export async function personIdentity(
  db: Database,
  userId: string,
  sessionId: string,
  projectId: string | undefined,
  via: 'token' | 'console',
  projectNamedPerCall = via === 'console',
): Promise<Identity> {
  const session = sessionId === '' ? undefined : await findAccountSession(db, sessionId);
  if (!session || session.user_id !== userId || session.revoked_at !== null || session.expires_at.getTime() <= Date.now()) {
    throw unauthenticated(via === 'token' ? 'this session has ended: log in again' : 'your account session has ended: sign in again');
  }
  const user = await findUserById(db, userId);
  if (!user || user.status !== 'ACTIVE') throw unauthenticated('this account is disabled');
  const limits = { maxAssetBytes: DEFAULT_MAX_ASSET_BYTES, requestsPerMinute: DEFAULT_REQUESTS_PER_MINUTE };
  if (projectId === undefined) return { kind: 'USER', id: userId, sessionId, scopes: new Set(), limits };
  const membership = await findProjectRole(db, projectId, userId);
  if (!membership || !isOrganizationRole(membership.role)) {
    if (!projectNamedPerCall) throw unauthenticated("you are no longer a member of the organization of this token's project: refresh the token without it, or for another project");
    // Named for this call only (the console's or the gateway's project header): another organization's project does not exist for this person.
    throw notFound(`no project ${projectId}`);
  }
  return { kind: 'USER', id: userId, sessionId, projectId, scopes: new Set(ROLE_SCOPES[membership.role]), limits };
}
