import type { Kysely, Transaction } from 'kysely';
import type { AccountCodeRow, AccountRefreshTokenRow, AccountSessionRow, AccountSigningKeyRow, MailOutboxRow, MeshDatabase, UserRow } from '../schema.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

// Users

export async function insertUser(db: Db, user: { id: string; email: string; displayName: string; passwordHash: string }): Promise<UserRow | undefined> {
  // undefined when the address is taken (by a concurrent registration too).
  return db
    .insertInto('users')
    .values({ id: user.id, email: user.email, display_name: user.displayName, password_hash: user.passwordHash, status: 'ACTIVE' })
    .onConflict((oc) => oc.column('email').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function markUserEmailVerified(db: Db, id: string): Promise<UserRow> {
  return db.updateTable('users').set({ email_verified_at: new Date(), updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export async function setUserPasswordHash(db: Db, id: string, passwordHash: string): Promise<void> {
  const now = new Date();
  await db.updateTable('users').set({ password_hash: passwordHash, password_changed_at: now, updated_at: now }).where('id', '=', id).execute();
}

// Mailed codes

export async function insertAccountCode(db: Db, code: { id: string; userId: string; purpose: string; codeHash: string; expiresAt: Date }): Promise<void> {
  // A new code replaces the earlier ones of the same purpose.
  await db.updateTable('account_codes').set({ used_at: new Date() }).where('user_id', '=', code.userId).where('purpose', '=', code.purpose).where('used_at', 'is', null).execute();
  await db.insertInto('account_codes').values({ id: code.id, user_id: code.userId, purpose: code.purpose, code_hash: code.codeHash, expires_at: code.expiresAt }).execute();
}

/** The newest unused, unexpired code of a purpose. */
export async function findLiveAccountCode(db: Db, userId: string, purpose: string): Promise<AccountCodeRow | undefined> {
  return db
    .selectFrom('account_codes')
    .selectAll()
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', new Date())
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
}

/** Counts a wrong guess; the attempts made so far. */
export async function countAccountCodeAttempt(db: Db, id: string): Promise<number> {
  const row = await db
    .updateTable('account_codes')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .returning('attempts')
    .executeTakeFirstOrThrow();
  return row.attempts;
}

/** Marks a code used; false when another request used it first. */
export async function useAccountCode(db: Db, id: string): Promise<boolean> {
  const result = await db.updateTable('account_codes').set({ used_at: new Date() }).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

// Sessions and refresh tokens

export async function insertAccountSession(db: Db, session: { id: string; userId: string; clientIp: string; userAgent: string; expiresAt: Date }): Promise<AccountSessionRow> {
  return db
    .insertInto('account_sessions')
    .values({ id: session.id, user_id: session.userId, client_ip: session.clientIp, user_agent: session.userAgent, expires_at: session.expiresAt })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findAccountSession(db: Db, id: string): Promise<AccountSessionRow | undefined> {
  return db.selectFrom('account_sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function touchAccountSession(db: Db, id: string): Promise<void> {
  await db.updateTable('account_sessions').set({ last_used_at: new Date() }).where('id', '=', id).execute();
}

/** Ends one session (no-op when already ended). */
export async function revokeAccountSession(db: Db, id: string, reason: string): Promise<void> {
  await db.updateTable('account_sessions').set({ revoked_at: new Date(), revoke_reason: reason }).where('id', '=', id).where('revoked_at', 'is', null).execute();
}

/** Ends every session of a user but `exceptSessionId`; how many ended. */
export async function revokeUserSessions(db: Db, userId: string, reason: string, exceptSessionId?: string): Promise<number> {
  let query = db.updateTable('account_sessions').set({ revoked_at: new Date(), revoke_reason: reason }).where('user_id', '=', userId).where('revoked_at', 'is', null);
  if (exceptSessionId !== undefined) query = query.where('id', '!=', exceptSessionId);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function listLiveAccountSessions(db: Db, userId: string): Promise<AccountSessionRow[]> {
  return db
    .selectFrom('account_sessions')
    .selectAll()
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', new Date())
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

export async function insertRefreshToken(db: Db, token: { id: string; sessionId: string; tokenHash: string }): Promise<void> {
  await db.insertInto('account_refresh_tokens').values({ id: token.id, session_id: token.sessionId, token_hash: token.tokenHash }).execute();
}

export async function findRefreshTokenByHash(db: Db, tokenHash: string): Promise<AccountRefreshTokenRow | undefined> {
  return db.selectFrom('account_refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Retires a refresh token; false when it was already retired (by a concurrent refresh too). */
export async function retireRefreshToken(db: Db, id: string): Promise<boolean> {
  const result = await db.updateTable('account_refresh_tokens').set({ rotated_at: new Date() }).where('id', '=', id).where('rotated_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

// Access-token signing keys

export async function findActiveAccountSigningKey(db: Db): Promise<AccountSigningKeyRow | undefined> {
  return db.selectFrom('account_signing_keys').selectAll().where('status', '=', 'ACTIVE').executeTakeFirst();
}

export async function findAccountSigningKey(db: Db, kid: string): Promise<AccountSigningKeyRow | undefined> {
  return db.selectFrom('account_signing_keys').selectAll().where('kid', '=', kid).executeTakeFirst();
}

/** Inserts the first key unless another instance did so first; the active key either way. */
export async function insertFirstAccountSigningKey(
  db: Db,
  key: { kid: string; algorithm: string; publicJwk: Record<string, unknown>; encryptedPrivateKey: Uint8Array },
): Promise<AccountSigningKeyRow> {
  await db
    .insertInto('account_signing_keys')
    .values({ kid: key.kid, algorithm: key.algorithm, public_jwk: JSON.stringify(key.publicJwk), encrypted_private_key: key.encryptedPrivateKey, status: 'ACTIVE' })
    .onConflict((oc) => oc.doNothing())
    .execute();
  const active = await findActiveAccountSigningKey(db);
  if (!active) throw new Error('no active account signing key after inserting one');
  return active;
}

/** Public halves of every key that may have signed a live access token. */
export async function listAccountSigningKeys(db: Db): Promise<Pick<AccountSigningKeyRow, 'kid' | 'algorithm' | 'public_jwk' | 'status'>[]> {
  return db.selectFrom('account_signing_keys').select(['kid', 'algorithm', 'public_jwk', 'status']).orderBy('created_at', 'desc').execute();
}

// Mail outbox

export async function insertOutboxMail(db: Db, mail: { id: string; recipient: string; subject: string; bodyText: string; status: string; error?: string }): Promise<void> {
  await db
    .insertInto('mail_outbox')
    .values({ id: mail.id, recipient: mail.recipient, subject: mail.subject, body_text: mail.bodyText, status: mail.status, error: mail.error ?? null, sent_at: mail.status === 'SENT' ? new Date() : null })
    .execute();
}

export async function listOutboxMail(db: Db, recipient: string): Promise<MailOutboxRow[]> {
  return db.selectFrom('mail_outbox').selectAll().where('recipient', '=', recipient).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
}
