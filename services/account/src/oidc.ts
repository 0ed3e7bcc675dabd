import { createHash } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import * as client from 'openid-client';
import { failedPrecondition, invalidArgument, notFound, unauthenticated } from '@c2pa-mesh/errors';
import { decryptPrivateKey, encryptPrivateKey } from '@c2pa-mesh/key-custody';
import { accountV1 } from '@c2pa-mesh/proto';
import {
  findIdentityProvider,
  findMembership,
  findUserByEmail,
  findUserByIdentity,
  insertAccountSession,
  insertOidcSignIn,
  insertVerifiedUser,
  linkUserIdentity,
  newId,
  takeOidcSignIn,
  upsertIdentityProvider,
  upsertOrganizationMember,
  type OrganizationIdentityProviderRow,
  type UserRow,
} from '@c2pa-mesh/storage';
import { randomBytes } from 'node:crypto';
import { countAttempt } from './attempt-limits.js';
import type { AccountDeps } from './deps.js';
import { addressBucket, clientOf, currentUser, issueTokens, normalizeEmail, toUser } from './handlers.js';
import { membershipOf, requireManager } from './organizations.js';
import { hashPassword } from './passwords.js';
import type { ProviderFetchPolicy } from './outbound-fetch.js';
import { recordSignedIn } from './sign-in-audit.js';

/** How long a person has at the provider before the sign-in must be started again. */
const SIGN_IN_TTL_SECONDS = 10 * 60;
/** A provider's discovery document is fetched again after this long. */
const DISCOVERY_TTL_MS = 5 * 60 * 1000;
const URL_MAX_LENGTH = 2000;
const DEFAULT_ROLES = ['member', 'viewer'] as const;

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');
const secretContext = (organizationId: string) => `oidc-client-secret:${organizationId}`;
const checksContext = (id: string) => `oidc-sign-in:${id}`;

function httpUrl(raw: string, field: string): URL {
  const value = raw.trim();
  if (value === '') throw invalidArgument(`${field} is required`);
  if (value.length > URL_MAX_LENGTH) throw invalidArgument(`${field} must be at most ${URL_MAX_LENGTH} characters long`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidArgument(`${field} "${value.slice(0, 200)}" is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidArgument(`${field} must be an https:// URL, got ${url.protocol}//`);
  return url;
}

function emailDomain(raw: string): string {
  const domain = raw.trim().toLowerCase().replace(/^@/, '');
  if (domain === '') throw invalidArgument('allowed_email_domain is required: only people with an address in it may sign in (e.g. example.com)');
  if (!/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/.test(domain)) {
    throw invalidArgument(`allowed_email_domain "${raw.trim().slice(0, 100)}" is not a domain name such as example.com`);
  }
  return domain;
}

export interface OidcSignIns {
  setIdentityProvider(req: accountV1.SetIdentityProviderRequest, ctx: HandlerContext): Promise<accountV1.SetIdentityProviderResponse>;
  getIdentityProvider(req: accountV1.GetIdentityProviderRequest, ctx: HandlerContext): Promise<accountV1.GetIdentityProviderResponse>;
  startOidcSignIn(req: accountV1.StartOidcSignInRequest, ctx: HandlerContext): Promise<accountV1.StartOidcSignInResponse>;
  finishOidcSignIn(req: accountV1.FinishOidcSignInRequest, ctx: HandlerContext): Promise<accountV1.FinishOidcSignInResponse>;
}

function toIdentityProvider(row: OrganizationIdentityProviderRow): accountV1.IdentityProvider {
  return create(accountV1.IdentityProviderSchema, {
    organizationId: row.organization_id,
    issuerUrl: row.issuer_url,
    clientId: row.client_id,
    clientSecretSet: row.encrypted_client_secret !== null,
    allowedEmailDomain: row.allowed_email_domain,
    defaultRole: row.default_role,
    redirectUri: row.redirect_uri,
    updatedAt: row.updated_at.toISOString(),
  });
}

/**
 * Sign-in with an organization's OpenID Connect provider: authorization code flow with PKCE,
 * state and nonce; openid-client makes the requests (through the address policy) and checks the
 * ID token. The checks of a sign-in under way are sealed in the database, found by the state's
 * hash, and used once.
 */
export function createOidcSignIns(deps: AccountDeps, outbound: ProviderFetchPolicy): OidcSignIns {
  const discovered = new Map<string, { at: number; config: Promise<client.Configuration> }>();

  function discover(issuer: URL, clientId: string, clientSecret: string | undefined): Promise<client.Configuration> {
    const key = sha256(`${issuer.href}\n${clientId}\n${clientSecret ?? ''}`);
    const cached = discovered.get(key);
    if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.config;
    const refused = outbound.refusal(issuer);
    if (refused) return Promise.reject(invalidArgument(`issuer_url: ${refused}`));
    const config = client
      .discovery(issuer, clientId, undefined, clientSecret ? client.ClientSecretBasic(clientSecret) : client.None(), {
        [client.customFetch]: outbound.fetch,
        // Plain http passed the policy above only for an allowed host.
        ...(issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {}),
      })
      .catch((cause: unknown) => {
        discovered.delete(key);
        deps.logger.warn({ err: cause, issuer: issuer.href }, 'identity provider discovery failed');
        throw failedPrecondition(`the identity provider at ${issuer.href} could not be reached or its discovery document (/.well-known/openid-configuration) is not valid: ${errorText(cause)}`, { cause });
      });
    discovered.set(key, { at: Date.now(), config });
    return config;
  }

  function configOf(row: OrganizationIdentityProviderRow): Promise<client.Configuration> {
    const secret = row.encrypted_client_secret
      ? Buffer.from(decryptPrivateKey(row.encrypted_client_secret, deps.keyEncryptionKey, secretContext(row.organization_id))).toString('utf8')
      : undefined;
    return discover(new URL(row.issuer_url), row.client_id, secret);
  }

  async function providerOf(organizationId: string): Promise<OrganizationIdentityProviderRow> {
    if (organizationId.trim() === '') throw invalidArgument('organization_id is required');
    const row = await findIdentityProvider(deps.db, organizationId.trim());
    // Unknown organizations and ones without a provider answer the same.
    if (!row) throw notFound(`organization ${organizationId.trim()} has no identity provider for sign-in`);
    return row;
  }

  /** The user the provider vouches for: linked by (issuer, subject), else made from the verified address. */
  async function userFor(row: OrganizationIdentityProviderRow, claims: client.IDToken): Promise<{ user: UserRow; created: boolean }> {
    const linked = await findUserByIdentity(deps.db, row.issuer_url, claims.sub);
    if (linked) return { user: linked, created: false };
    if (typeof claims.email !== 'string') throw failedPrecondition('the identity provider did not give an e-mail address (ask for the "email" scope and claim)');
    if (claims.email_verified !== true) throw failedPrecondition('the identity provider has not verified this e-mail address; verify it there first');
    const email = normalizeEmail(claims.email);
    if (!email.endsWith(`@${row.allowed_email_domain}`)) {
      throw failedPrecondition(`only addresses in ${row.allowed_email_domain} may sign in to this organization with its identity provider`);
    }
    // An account made with a password is never taken over by a provider's word: an organization's
    // admin chooses the provider and the domain, and could otherwise sign in as anyone at it,
    // into every other organization of that person too.
    if (await findUserByEmail(deps.db, email)) {
      throw failedPrecondition(`an account for ${email} exists already and signs in with its password; log in with it (Login) instead of the identity provider`);
    }
    const name = typeof claims.name === 'string' ? claims.name.trim().slice(0, 100) : '';
    // No password: the account signs in through the provider until its owner resets one.
    const user = await insertVerifiedUser(deps.db, { id: newId('usr'), email, displayName: name, passwordHash: await hashPassword(randomBytes(32).toString('base64url')) });
    // Registered at the same moment by someone else: the same refusal.
    if (!user) throw failedPrecondition(`an account for ${email} exists already and signs in with its password; log in with it (Login) instead of the identity provider`);
    await linkUserIdentity(deps.db, row.issuer_url, claims.sub, user.id);
    return { user, created: true };
  }

  return {
    async setIdentityProvider(req, ctx) {
      const { user } = await currentUser(deps, ctx);
      const { org, role } = await membershipOf(deps, user, req.organizationId);
      requireManager(role, 'configuring the identity provider');
      const issuer = httpUrl(req.issuerUrl, 'issuer_url');
      const redirect = httpUrl(req.redirectUri, 'redirect_uri');
      const clientId = req.clientId.trim();
      if (clientId === '' || clientId.length > 500) throw invalidArgument('client_id is required (at most 500 characters): the id the provider gave this mesh');
      if (req.clientSecret.length > 1000) throw invalidArgument('client_secret must be at most 1000 characters long');
      const defaultRole = req.defaultRole.trim().toLowerCase() || 'member';
      if (!(DEFAULT_ROLES as readonly string[]).includes(defaultRole)) throw invalidArgument(`default_role must be ${DEFAULT_ROLES.join(' or ')}, got "${req.defaultRole}"`);
      const domain = emailDomain(req.allowedEmailDomain);
      // Checked now, so that a mistake shows here and not at someone's first sign-in.
      await discover(issuer, clientId, req.clientSecret || undefined);
      const row = await upsertIdentityProvider(deps.db, {
        organizationId: org.id,
        issuerUrl: issuer.href.replace(/\/$/, ''),
        clientId,
        encryptedClientSecret: req.clientSecret ? encryptPrivateKey(Buffer.from(req.clientSecret, 'utf8'), deps.keyEncryptionKey, secretContext(org.id)) : null,
        allowedEmailDomain: domain,
        defaultRole,
        redirectUri: redirect.href,
      });
      return create(accountV1.SetIdentityProviderResponseSchema, { identityProvider: toIdentityProvider(row) });
    },

    async getIdentityProvider(req, ctx) {
      const { user } = await currentUser(deps, ctx);
      const { org, role } = await membershipOf(deps, user, req.organizationId);
      requireManager(role, 'reading the identity provider');
      const row = await findIdentityProvider(deps.db, org.id);
      if (!row) throw notFound(`organization ${org.id} has no identity provider; set one with SetIdentityProvider`);
      return create(accountV1.GetIdentityProviderResponseSchema, { identityProvider: toIdentityProvider(row) });
    },

    async startOidcSignIn(req, ctx) {
      await countAttempt(deps.db, [addressBucket(deps, ctx, 'oidc')]);
      const row = await providerOf(req.organizationId);
      const config = await configOf(row);
      const codeVerifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const id = newId('osi');
      await insertOidcSignIn(deps.db, {
        id,
        stateHash: sha256(state),
        organizationId: row.organization_id,
        encryptedChecks: encryptPrivateKey(Buffer.from(JSON.stringify({ codeVerifier, nonce }), 'utf8'), deps.keyEncryptionKey, checksContext(id)),
        expiresAt: new Date(Date.now() + SIGN_IN_TTL_SECONDS * 1000),
      });
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: row.redirect_uri,
        scope: 'openid email profile',
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return create(accountV1.StartOidcSignInResponseSchema, { authorizationUrl: url.href, state, expiresIn: BigInt(SIGN_IN_TTL_SECONDS) });
    },

    async finishOidcSignIn(req, ctx) {
      await countAttempt(deps.db, [addressBucket(deps, ctx, 'oidc')]);
      const callback = httpUrl(req.callbackUrl, 'callback_url');
      const state = callback.searchParams.get('state') ?? '';
      if (state === '') throw invalidArgument('callback_url has no state parameter: pass the whole URL the identity provider redirected to');
      const signIn = await takeOidcSignIn(deps.db, sha256(state));
      if (!signIn) throw failedPrecondition('this sign-in is unknown, was already finished or took too long: start it again');
      const row = await findIdentityProvider(deps.db, signIn.organization_id);
      if (!row) throw failedPrecondition('the organization no longer has an identity provider');
      const checks = JSON.parse(Buffer.from(decryptPrivateKey(signIn.encrypted_checks, deps.keyEncryptionKey, checksContext(signIn.id))).toString('utf8')) as { codeVerifier: string; nonce: string };
      const config = await configOf(row);
      // The redirect_uri sent to the token endpoint is the registered one, with the provider's parameters.
      const current = new URL(row.redirect_uri);
      current.search = callback.search;
      let claims: client.IDToken | undefined;
      try {
        const tokens = await client.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        });
        claims = tokens.claims();
        // Providers put scope claims in the ID token or only at the userinfo endpoint (the
        // default of many): asked there, for the ID token's subject, when the address is missing.
        if (claims && typeof claims.email !== 'string') {
          const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
          claims = { ...claims, email: info.email, email_verified: info.email_verified, name: claims.name ?? info.name };
        }
      } catch (cause) {
        deps.logger.warn({ err: cause, organizationId: row.organization_id }, 'identity provider sign-in refused');
        throw unauthenticated(`the identity provider did not sign you in: ${errorText(cause)}`, { cause });
      }
      if (!claims) throw unauthenticated('the identity provider returned no ID token');
      const { user, created } = await userFor(row, claims);
      if (user.status !== 'ACTIVE') throw unauthenticated('this account is disabled');
      // A person already in the organization keeps their role; a newcomer gets the default one.
      if (!(await findMembership(deps.db, row.organization_id, user.id))) await upsertOrganizationMember(deps.db, row.organization_id, user.id, row.default_role);
      const { clientIp, userAgent } = clientOf(ctx);
      const session = await insertAccountSession(deps.db, {
        id: newId('ses'),
        userId: user.id,
        clientIp,
        userAgent,
        expiresAt: new Date(Date.now() + deps.config.refreshTokenTtlSeconds * 1000),
      });
      recordSignedIn(ctx, user.id, session.id);
      return create(accountV1.FinishOidcSignInResponseSchema, {
        tokens: await issueTokens(deps, user, session, req.projectId),
        user: toUser(user),
        organizationId: row.organization_id,
        created,
      });
    },
  };
}

/** An openid-client error in words (its OAuth error code and description when it has them). */
function errorText(cause: unknown): string {
  if (cause instanceof client.AuthorizationResponseError || cause instanceof client.ResponseBodyError) {
    return `${cause.error}${cause.error_description ? `: ${cause.error_description}` : ''}`;
  }
  return cause instanceof Error ? cause.message : String(cause);
}
