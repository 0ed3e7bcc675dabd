import { LRUCache } from 'lru-cache';
import { type Database, findApiKeyBySecretHash, findClientBindingForCertificate, findConsoleSession } from '@c2pa-mesh/storage';
import { ACCESS_TOKEN_SHAPE, createAccessTokenVerifier, personIdentity } from './access-token.js';
import { permissionDenied, unauthenticated } from '@c2pa-mesh/errors';
import { API_KEY_PREFIX, hashApiKey } from './api-key-secret.js';
import { CONSOLE_CSRF_HEADER, consoleCsrfMatches, hashConsoleSessionToken, type ConsoleSessionCredentials } from './console-session.js';
import { ADMIN_SCOPES, type Identity } from './identity.js';
import { DEFAULT_MAX_ASSET_BYTES, DEFAULT_REQUESTS_PER_MINUTE } from './limits.js';
import { SERVICE_SCOPES, isPublicScope, type Scope } from './scopes.js';

/** The mesh's own identities live under this SPIFFE trust domain in client-certificate SAN URIs. */
export const MESH_SPIFFE_PREFIX = 'spiffe://c2pa-mesh/';
export const ADMIN_SPIFFE_ID = `${MESH_SPIFFE_PREFIX}admin`;
export const serviceSpiffeId = (service: string) => `${MESH_SPIFFE_PREFIX}service/${service}`;

/** A client certificate that the TLS layer has already verified against the mesh CA. */
export interface PeerCertificate {
  spkiSha256: string;
  sanUris: string[];
  subject: string;
  serialNumber: string;
}

export interface CallerCredentials {
  certificate?: PeerCertificate;
  /** The token from `Authorization: Bearer …`, if any. */
  bearerToken?: string;
  origin?: string;
  /**
   * For a person's access token made for no project: the project this call acts on (the
   * `x-c2pa-project` header). Their role there is read as for a token made for it.
   */
  projectId?: string;
  /** The web console's session cookie and CSRF header, when the call comes from the console. */
  consoleSession?: ConsoleSessionCredentials;
}

export interface IdentityResolver {
  /** The caller's identity; undefined when no credential was presented. Bad credentials throw `unauthenticated`. */
  resolve(credentials: CallerCredentials): Promise<Identity | undefined>;
  /** A certificate's status changed (or may have): forget which client certificates were found not revoked. */
  forgetCertificateChecks(): void;
}

export interface IdentityResolverOptions {
  /**
   * True while every certificate status change reaches `forgetCertificateChecks` (the CA runs in
   * this process and hears all changes). Only then is "this client certificate is not revoked"
   * kept between calls; otherwise it is asked of the database on every call.
   */
  certificateChecksCached?: () => boolean;
}

/** Client certificates remembered as not revoked; a mesh has few (admin, services, partners). */
const NOT_REVOKED_KEPT = 1024;

function scopeSet(values: readonly string[]): Set<Scope> {
  return new Set(values.filter(isPublicScope));
}

/**
 * Resolves identities from the database on every call, so that a revoked key or certificate is
 * refused on the very next request on every instance. The one answer kept between calls, "this
 * client certificate is not revoked", is kept only while every status change is heard and
 * forgotten at the first one (see IdentityResolverOptions).
 */
export function createIdentityResolver(db: Database, options: IdentityResolverOptions = {}): IdentityResolver {
  const cached = options.certificateChecksCached ?? (() => false);
  const notRevoked = new LRUCache<string, true>({ max: NOT_REVOKED_KEPT });
  // Bumped by every forget: a check that started before a change must not record what it read.
  let generation = 0;

  async function checkNotRevoked(spkiSha256: string): Promise<void> {
    if (cached() && notRevoked.has(spkiSha256)) return;
    const started = generation;
    const revoked = await db
      .selectFrom('certificates')
      .select(['id'])
      .where('spki_sha256', '=', spkiSha256)
      .where('status', '=', 'REVOKED')
      .executeTakeFirst();
    if (revoked) throw unauthenticated('this client certificate has been revoked');
    if (started === generation && cached()) {
      notRevoked.set(spkiSha256, true);
    }
  }

  async function fromCertificate(cert: PeerCertificate): Promise<Identity> {
    await checkNotRevoked(cert.spkiSha256);

    const meshUri = cert.sanUris.find((uri) => uri.startsWith(MESH_SPIFFE_PREFIX));
    if (meshUri === ADMIN_SPIFFE_ID) {
      return { kind: 'ADMIN', id: meshUri, scopes: ADMIN_SCOPES };
    }
    if (meshUri?.startsWith(`${MESH_SPIFFE_PREFIX}service/`)) {
      const service = meshUri.slice(`${MESH_SPIFFE_PREFIX}service/`.length);
      const scopes = SERVICE_SCOPES[service];
      if (!scopes) throw unauthenticated(`unknown mesh service identity ${meshUri}`);
      return { kind: 'SERVICE', id: meshUri, serviceName: service, scopes: new Set(scopes) };
    }

    const binding = await findClientBindingForCertificate(db, cert.spkiSha256, cert.sanUris);
    if (!binding) {
      // Authenticated by the mesh CA, but bound to no project: an identity without scopes (still rate limited).
      return {
        kind: 'CLIENT_CERTIFICATE',
        id: `spki:${cert.spkiSha256}`,
        scopes: new Set(),
        limits: { maxAssetBytes: DEFAULT_MAX_ASSET_BYTES, requestsPerMinute: DEFAULT_REQUESTS_PER_MINUTE },
      };
    }
    return {
      kind: 'CLIENT_CERTIFICATE',
      id: binding.san_uri ?? `spki:${cert.spkiSha256}`,
      projectId: binding.project_id,
      scopes: scopeSet(binding.scopes),
      limits: { maxAssetBytes: DEFAULT_MAX_ASSET_BYTES, requestsPerMinute: DEFAULT_REQUESTS_PER_MINUTE },
    };
  }

  async function fromApiKey(token: string): Promise<Identity> {
    // Not one of ours at all: no need to ask the database.
    if (!token.startsWith(API_KEY_PREFIX)) {
      throw unauthenticated(`invalid bearer token: API keys of this mesh start with "${API_KEY_PREFIX}", access tokens are JWTs from AccountService/Login`);
    }
    const row = await findApiKeyBySecretHash(db, hashApiKey(token));
    if (!row) throw unauthenticated('invalid API key');
    const now = Date.now();
    if (row.status === 'REVOKED') throw unauthenticated('this API key has been revoked');
    if (row.expires_at && row.expires_at.getTime() <= now) {
      throw unauthenticated(row.status === 'ROTATING' ? 'this API key was rotated and its grace period has ended' : 'this API key has expired');
    }
    return {
      kind: 'API_KEY',
      id: row.id,
      projectId: row.project_id,
      scopes: scopeSet(row.scopes),
      limits: { maxAssetBytes: row.max_asset_bytes, requestsPerMinute: row.requests_per_minute },
      allowedOrigins: row.allowed_origins,
      keyName: row.name,
      expiresAt: row.expires_at ?? undefined,
    };
  }

  /**
   * A console session stands for the person who opened it, with the identity their sign-in
   * method gives: the admin client certificate, or a person's account (acting on the project the
   * page names, with their role's scopes there). Every call made with it must carry its CSRF token.
   */
  async function fromConsoleSession(session: ConsoleSessionCredentials): Promise<Identity> {
    const row = await findConsoleSession(db, hashConsoleSessionToken(session.token));
    if (!row) throw unauthenticated('your console session has ended: sign in again');
    if (!consoleCsrfMatches(session.token, session.csrfToken)) {
      throw permissionDenied(`calls made with a console session must carry its CSRF token in the ${CONSOLE_CSRF_HEADER} header`);
    }
    switch (row.subject_kind) {
      case 'ADMIN_CERTIFICATE':
        // The certificate that signed in may have been revoked since.
        if (row.certificate_spki_sha256) await checkNotRevoked(row.certificate_spki_sha256);
        return { kind: 'ADMIN', id: row.subject, scopes: ADMIN_SCOPES };
      case 'ACCOUNT':
        return personIdentity(db, row.subject, row.account_session_id ?? '', session.projectId || undefined, 'console');
      default:
        throw unauthenticated('this console session was opened by a sign-in method this mesh does not know: sign in again');
    }
  }

  const accessTokens = createAccessTokenVerifier(db);

  return {
    async resolve(credentials) {
      // An explicit API key wins over a certificate: a browser or script may reach us through
      // a TLS terminator that presents its own certificate. A person's access token is a JWT,
      // told apart from an API key by its shape (API keys start with API_KEY_PREFIX).
      if (credentials.bearerToken !== undefined) {
        return ACCESS_TOKEN_SHAPE.test(credentials.bearerToken) ? accessTokens.resolve(credentials.bearerToken, credentials.projectId) : fromApiKey(credentials.bearerToken);
      }
      // The console's session wins over the certificate the browser may present as well: the
      // session is what the CSRF token protects.
      if (credentials.consoleSession) return fromConsoleSession(credentials.consoleSession);
      if (credentials.certificate) return fromCertificate(credentials.certificate);
      return undefined;
    },
    forgetCertificateChecks() {
      generation++;
      notRevoked.clear();
    },
  };
}
