import type { Kysely, Transaction } from 'kysely';
import type { DeviceLoginRow, MeshDatabase, OidcSignInRow, OrganizationIdentityProviderRow, UserRow } from '../schema.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

// Organizations' identity providers

export interface IdentityProviderValues {
  organizationId: string;
  issuerUrl: string;
  clientId: string;
  encryptedClientSecret: Uint8Array | null;
  allowedEmailDomain: string;
  defaultRole: string;
  redirectUri: string;
}

export async function upsertIdentityProvider(db: Db, p: IdentityProviderValues): Promise<OrganizationIdentityProviderRow> {
  const values = {
    issuer_url: p.issuerUrl,
    client_id: p.clientId,
    encrypted_client_secret: p.encryptedClientSecret,
    allowed_email_domain: p.allowedEmailDomain,
    default_role: p.defaultRole,
    redirect_uri: p.redirectUri,
  };
  return db
    .insertInto('organization_identity_providers')
    .values({ organization_id: p.organizationId, ...values })
    .onConflict((oc) => oc.column('organization_id').doUpdateSet({ ...values, updated_at: new Date() }))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findIdentityProvider(db: Db, organizationId: string): Promise<OrganizationIdentityProviderRow | undefined> {
  return db.selectFrom('organization_identity_providers').selectAll().where('organization_id', '=', organizationId).executeTakeFirst();
}

// Provider sign-ins under way

export async function insertOidcSignIn(db: Db, s: { id: string; stateHash: string; organizationId: string; encryptedChecks: Uint8Array; expiresAt: Date }): Promise<void> {
  await db
    .insertInto('oidc_sign_ins')
    .values({ id: s.id, state_hash: s.stateHash, organization_id: s.organizationId, encrypted_checks: s.encryptedChecks, expires_at: s.expiresAt })
    .execute();
}

/**
 * Takes the live sign-in with this state for use, once: a second callback with the same state
 * (a replay, or a double click) finds nothing.
 */
export async function takeOidcSignIn(db: Db, stateHash: string): Promise<OidcSignInRow | undefined> {
  return db
    .updateTable('oidc_sign_ins')
    .set({ used_at: new Date() })
    .where('state_hash', '=', stateHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', new Date())
    .returningAll()
    .executeTakeFirst();
}

// Provider accounts linked to users

export async function findUserByIdentity(db: Db, issuerUrl: string, subject: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('user_identities')
    .innerJoin('users', 'users.id', 'user_identities.user_id')
    .selectAll('users')
    .where('user_identities.issuer_url', '=', issuerUrl)
    .where('user_identities.subject', '=', subject)
    .executeTakeFirst();
}

export async function linkUserIdentity(db: Db, issuerUrl: string, subject: string, userId: string): Promise<void> {
  await db
    .insertInto('user_identities')
    .values({ issuer_url: issuerUrl, subject, user_id: userId })
    .onConflict((oc) => oc.columns(['issuer_url', 'subject']).doNothing())
    .execute();
}

/** An account made by a provider sign-in: its address verified by the provider. */
export async function insertVerifiedUser(db: Db, user: { id: string; email: string; displayName: string; passwordHash: string }): Promise<UserRow | undefined> {
  return db
    .insertInto('users')
    .values({ id: user.id, email: user.email, display_name: user.displayName, password_hash: user.passwordHash, status: 'ACTIVE', email_verified_at: new Date() })
    .onConflict((oc) => oc.column('email').doNothing())
    .returningAll()
    .executeTakeFirst();
}

// Device logins

export async function insertDeviceLogin(
  db: Db,
  d: { id: string; deviceCodeHash: string; userCodeHash: string; clientName: string; clientIp: string; intervalSeconds: number; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('device_logins')
    .values({
      id: d.id,
      device_code_hash: d.deviceCodeHash,
      user_code_hash: d.userCodeHash,
      client_name: d.clientName,
      client_ip: d.clientIp,
      status: 'PENDING',
      interval_seconds: d.intervalSeconds,
      expires_at: d.expiresAt,
    })
    .execute();
}

export async function findDeviceLoginByDeviceCode(db: Db, deviceCodeHash: string): Promise<DeviceLoginRow | undefined> {
  return db.selectFrom('device_logins').selectAll().where('device_code_hash', '=', deviceCodeHash).executeTakeFirst();
}

/** Approves a pending, live device login by its user code; undefined when there is none. */
export async function approveDeviceLogin(db: Db, userCodeHash: string, userId: string): Promise<DeviceLoginRow | undefined> {
  return db
    .updateTable('device_logins')
    .set({ status: 'APPROVED', user_id: userId })
    .where('user_code_hash', '=', userCodeHash)
    .where('status', '=', 'PENDING')
    .where('expires_at', '>', new Date())
    .returningAll()
    .executeTakeFirst();
}

/** Records a poll; `intervalSeconds` set when the device polled too fast (slow_down). */
export async function recordDeviceLoginPoll(db: Db, id: string, intervalSeconds?: number): Promise<void> {
  await db
    .updateTable('device_logins')
    .set({ last_polled_at: new Date(), ...(intervalSeconds !== undefined ? { interval_seconds: intervalSeconds } : {}) })
    .where('id', '=', id)
    .execute();
}

/** Takes an approved device login for its tokens, once. */
export async function useDeviceLogin(db: Db, id: string): Promise<boolean> {
  const row = await db.updateTable('device_logins').set({ status: 'USED' }).where('id', '=', id).where('status', '=', 'APPROVED').returning('id').executeTakeFirst();
  return row !== undefined;
}
