import { createHash, randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { failedPrecondition, invalidArgument, notFound, permissionDenied, unauthenticated } from '@c2pa-mesh/errors';
import { ROLE_SCOPES, isOrganizationRole } from '@c2pa-mesh/auth';
import { accountV1 } from '@c2pa-mesh/proto';
import { callerIdentity, peerKey } from '@c2pa-mesh/server';
import {
  findAccountSession,
  findProjectRole,
  findRefreshTokenByHash,
  findUserByEmail,
  findUserById,
  insertAccountSession,
  insertRefreshToken,
  insertUser,
  listLiveAccountSessions,
  markUserEmailVerified,
  newId,
  retireRefreshToken,
  revokeAccountSession,
  revokeUserSessions,
  setUserPasswordHash,
  touchAccountSession,
  type AccountSessionRow,
  type UserRow,
} from '@c2pa-mesh/storage';
import { countAttempt, loginBuckets, type AttemptBucket } from './attempt-limits.js';
import { consumeCode, newCode, CODE_TTL_MS } from './codes.js';
import type { AccountDeps } from './deps.js';
import { checkNewPassword, hashPassword } from './passwords.js';
import { recordSignedIn } from './sign-in-audit.js';

/** Refresh tokens start with this: told apart from API keys (`c2m_`) and access tokens (JWTs). */
export const REFRESH_TOKEN_PREFIX = 'c2mr_';
const EMAIL_MAX_LENGTH = 254;
const DISPLAY_NAME_MAX_LENGTH = 100;
/** The one answer to a wrong password and to an unknown address. */
export const WRONG_CREDENTIALS = 'wrong e-mail address or password';

export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (email === '') throw invalidArgument('email is required');
  if (email.length > EMAIL_MAX_LENGTH) throw invalidArgument(`email must be at most ${EMAIL_MAX_LENGTH} characters long`);
  // Deliberately loose (RFC 5322 allows much): one @, something on each side, a dot in the domain, no spaces.
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw invalidArgument(`email "${raw.trim()}" is not an e-mail address`);
  return email;
}

export function clientOf(ctx: HandlerContext): { clientIp: string; userAgent: string } {
  return { clientIp: ctx.values.get(peerKey)?.clientIp ?? '', userAgent: (ctx.requestHeader.get('user-agent') ?? '').slice(0, 200) };
}

export function addressBucket(deps: AccountDeps, ctx: HandlerContext, what: string): AttemptBucket {
  const { clientIp } = clientOf(ctx);
  return { bucket: `account:${what}:ip:${clientIp}`, perMinute: deps.config.loginAttemptsPerAddress, who: `your address${clientIp ? ` (${clientIp})` : ''}` };
}

export function toUser(row: UserRow): accountV1.User {
  return create(accountV1.UserSchema, {
    userId: row.id,
    email: row.email,
    displayName: row.display_name,
    emailVerified: row.email_verified_at !== null,
    createdAt: row.created_at.toISOString(),
  });
}

/** The person behind the call's access token. */
export async function currentUser(deps: AccountDeps, ctx: HandlerContext): Promise<{ user: UserRow; sessionId: string }> {
  const identity = callerIdentity(ctx);
  if (identity.kind !== 'USER' || identity.sessionId === undefined) {
    throw permissionDenied('this call is for people signed in with an access token (AccountService/Login), not for API keys or client certificates');
  }
  const user = await findUserById(deps.db, identity.id);
  if (!user) throw unauthenticated('this account no longer exists');
  return { user, sessionId: identity.sessionId };
}

function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The scopes the user's role gives on `projectId` (not_found when the user has none there). */
async function projectScopes(deps: AccountDeps, userId: string, projectId: string): Promise<string[]> {
  if (projectId === '') return [];
  const membership = await findProjectRole(deps.db, projectId, userId);
  if (!membership || !isOrganizationRole(membership.role)) throw notFound(`no project ${projectId}`);
  return [...ROLE_SCOPES[membership.role]];
}

export async function issueTokens(deps: AccountDeps, user: UserRow, session: AccountSessionRow, projectId: string): Promise<accountV1.Tokens> {
  const scopes = await projectScopes(deps, user.id, projectId);
  const refreshToken = `${REFRESH_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  await insertRefreshToken(deps.db, { id: newId('rft'), sessionId: session.id, tokenHash: hashRefreshToken(refreshToken) });
  const ttl = deps.config.accessTokenTtlSeconds;
  const accessToken = await deps.keys.issue({ userId: user.id, sessionId: session.id, email: user.email, projectId: projectId || undefined, ttlSeconds: ttl });
  return create(accountV1.TokensSchema, {
    accessToken,
    tokenType: 'Bearer',
    expiresIn: BigInt(ttl),
    refreshToken,
    refreshExpiresIn: BigInt(Math.max(0, Math.floor((session.expires_at.getTime() - Date.now()) / 1000))),
    sessionId: session.id,
    projectId,
    scopes,
  });
}

async function mailCode(deps: AccountDeps, user: UserRow, purpose: 'VERIFY_EMAIL' | 'RESET_PASSWORD'): Promise<void> {
  const code = await newCode(deps.db, user.id, purpose);
  const minutes = CODE_TTL_MS / 60_000;
  const mail =
    purpose === 'VERIFY_EMAIL'
      ? {
          subject: `Your c2pa-mesh verification code: ${code}`,
          text: `Hello ${user.display_name || user.email},\n\nyour code to verify this e-mail address is:\n\n    ${code}\n\nIt works for ${minutes} minutes. If you did not register, ignore this message.\n`,
        }
      : {
          subject: `Your c2pa-mesh password reset code: ${code}`,
          text: `Hello ${user.display_name || user.email},\n\nyour code to set a new password is:\n\n    ${code}\n\nIt works for ${minutes} minutes. If you did not ask for it, ignore this message: your password stays as it is.\n`,
        };
  await deps.mailer.send({ to: user.email, ...mail });
}

export async function register(deps: AccountDeps, req: accountV1.RegisterRequest, ctx: HandlerContext) {
  const email = normalizeEmail(req.email);
  checkNewPassword(req.password);
  const displayName = req.displayName.trim();
  if (displayName.length > DISPLAY_NAME_MAX_LENGTH) throw invalidArgument(`display_name must be at most ${DISPLAY_NAME_MAX_LENGTH} characters long`);
  await countAttempt(deps.db, [addressBucket(deps, ctx, 'register')]);
  const user = await insertUser(deps.db, { id: newId('usr'), email, displayName, passwordHash: await hashPassword(req.password) });
  if (!user) return registeredAgain(deps, email, displayName);
  await mailCode(deps, user, 'VERIFY_EMAIL');
  return create(accountV1.RegisterResponseSchema, { user: toUser(user) });
}

export async function verifyEmail(deps: AccountDeps, req: accountV1.VerifyEmailRequest, ctx: HandlerContext) {
  const email = normalizeEmail(req.email);
  await countAttempt(deps.db, [addressBucket(deps, ctx, 'code')]);
  const user = await findUserByEmail(deps.db, email);
  if (user?.email_verified_at) return create(accountV1.VerifyEmailResponseSchema, { user: toUser(user) });
  await consumeCode(deps.db, user?.id, 'VERIFY_EMAIL', req.code);
  return create(accountV1.VerifyEmailResponseSchema, { user: toUser(await markUserEmailVerified(deps.db, user!.id)) });
}

export async function resendVerification(deps: AccountDeps, req: accountV1.ResendVerificationRequest, ctx: HandlerContext) {
  const email = normalizeEmail(req.email);
  await countAttempt(deps.db, [addressBucket(deps, ctx, 'mail')]);
  const user = await findUserByEmail(deps.db, email);
  if (user && !user.email_verified_at) await mailCode(deps, user, 'VERIFY_EMAIL');
  return create(accountV1.ResendVerificationResponseSchema, {});
}

export async function login(deps: AccountDeps, req: accountV1.LoginRequest, ctx: HandlerContext) {
  const email = normalizeEmail(req.email);
  if (req.password === '') throw invalidArgument('password is required');
  const { clientIp, userAgent } = clientOf(ctx);
  await countAttempt(deps.db, loginBuckets(email, clientIp, { perAccount: deps.config.loginAttemptsPerAccount, perAddress: deps.config.loginAttemptsPerAddress }));
  const user = await findUserByEmail(deps.db, email);
  // An unknown address costs the same hash check as a wrong password, and answers the same.
  const ok = await deps.passwords.check(user?.password_hash, req.password);
  if (!user || !ok || user.status !== 'ACTIVE') throw unauthenticated(WRONG_CREDENTIALS);
  if (!user.email_verified_at) throw failedPrecondition('verify your e-mail address first with the code mailed to it (VerifyEmail; ResendVerification mails a new one)');
  // Before a session is made: a project the user has no role on makes no session.
  await projectScopes(deps, user.id, req.projectId);
  const session = await insertAccountSession(deps.db, {
    id: newId('ses'),
    userId: user.id,
    clientIp,
    userAgent,
    expiresAt: new Date(Date.now() + deps.config.refreshTokenTtlSeconds * 1000),
  });
  recordSignedIn(ctx, user.id, session.id);
  return create(accountV1.LoginResponseSchema, { tokens: await issueTokens(deps, user, session, req.projectId), user: toUser(user) });
}

const SESSION_ENDED = 'this session has ended: log in again';

export async function refresh(deps: AccountDeps, req: accountV1.RefreshRequest, ctx: HandlerContext) {
  if (req.refreshToken === '') throw invalidArgument('refresh_token is required');
  if (!req.refreshToken.startsWith(REFRESH_TOKEN_PREFIX)) throw unauthenticated(`invalid refresh token: refresh tokens start with "${REFRESH_TOKEN_PREFIX}"`);
  const token = await findRefreshTokenByHash(deps.db, hashRefreshToken(req.refreshToken));
  if (!token) throw unauthenticated('invalid refresh token');
  const session = await findAccountSession(deps.db, token.session_id);
  if (!session || session.revoked_at !== null || session.expires_at.getTime() <= Date.now()) throw unauthenticated(SESSION_ENDED);
  // A retired token presented again: it was copied. End the whole session, the thief's copy and
  // the owner's alike. The same when two refreshes race with one token.
  const reused = token.rotated_at !== null;
  // A project the user has no role on is refused before the token is retired: it still works.
  if (!reused) await projectScopes(deps, session.user_id, req.projectId);
  if (reused || !(await retireRefreshToken(deps.db, token.id))) {
    await revokeAccountSession(deps.db, session.id, 'refresh token reused');
    deps.logger.warn({ sessionId: session.id, userId: session.user_id }, 'a retired refresh token was presented again: session ended');
    throw unauthenticated('this refresh token was already used, so its session has been ended to be safe: log in again');
  }
  const user = await findUserById(deps.db, session.user_id);
  if (!user || user.status !== 'ACTIVE') throw unauthenticated(SESSION_ENDED);
  await touchAccountSession(deps.db, session.id);
  recordSignedIn(ctx, user.id, session.id);
  return create(accountV1.RefreshResponseSchema, { tokens: await issueTokens(deps, user, session, req.projectId) });
}

export async function logout(deps: AccountDeps, req: accountV1.LogoutRequest, ctx: HandlerContext) {
  if (req.refreshToken === '') throw invalidArgument('refresh_token is required');
  const token = req.refreshToken.startsWith(REFRESH_TOKEN_PREFIX) ? await findRefreshTokenByHash(deps.db, hashRefreshToken(req.refreshToken)) : undefined;
  // Logging out twice, or with a token already gone, ends nothing more: not an error.
  const session = token ? await findAccountSession(deps.db, token.session_id) : undefined;
  if (session) {
    await revokeAccountSession(deps.db, session.id, 'logged out');
    recordSignedIn(ctx, session.user_id, session.id);
  }
  return create(accountV1.LogoutResponseSchema, {});
}

export async function forgotPassword(deps: AccountDeps, req: accountV1.ForgotPasswordRequest, ctx: HandlerContext) {
  const email = normalizeEmail(req.email);
  await countAttempt(deps.db, [addressBucket(deps, ctx, 'mail')]);
  const user = await findUserByEmail(deps.db, email);
  if (user && user.status === 'ACTIVE') await mailCode(deps, user, 'RESET_PASSWORD');
  return create(accountV1.ForgotPasswordResponseSchema, {});
}

export async function resetPassword(deps: AccountDeps, req: accountV1.ResetPasswordRequest, ctx: HandlerContext) {
  const email = normalizeEmail(req.email);
  checkNewPassword(req.newPassword, 'new_password');
  await countAttempt(deps.db, [addressBucket(deps, ctx, 'code')]);
  const user = await findUserByEmail(deps.db, email);
  await consumeCode(deps.db, user?.id, 'RESET_PASSWORD', req.code);
  await setUserPasswordHash(deps.db, user!.id, await hashPassword(req.newPassword));
  // Whoever knew the old password is signed out everywhere. The code came by mail: the address works.
  await revokeUserSessions(deps.db, user!.id, 'password reset');
  if (!user!.email_verified_at) await markUserEmailVerified(deps.db, user!.id);
  return create(accountV1.ResetPasswordResponseSchema, {});
}

export async function changePassword(deps: AccountDeps, req: accountV1.ChangePasswordRequest, ctx: HandlerContext) {
  const { user, sessionId } = await currentUser(deps, ctx);
  if (req.currentPassword === '') throw invalidArgument('current_password is required');
  checkNewPassword(req.newPassword, 'new_password');
  const { clientIp } = clientOf(ctx);
  await countAttempt(deps.db, loginBuckets(user.email, clientIp, { perAccount: deps.config.loginAttemptsPerAccount, perAddress: deps.config.loginAttemptsPerAddress }));
  if (!(await deps.passwords.check(user.password_hash, req.currentPassword))) throw permissionDenied('current_password is wrong');
  await setUserPasswordHash(deps.db, user.id, await hashPassword(req.newPassword));
  await revokeUserSessions(deps.db, user.id, 'password changed', sessionId);
  return create(accountV1.ChangePasswordResponseSchema, {});
}

export async function getCurrentUser(deps: AccountDeps, ctx: HandlerContext) {
  const { user } = await currentUser(deps, ctx);
  return create(accountV1.GetCurrentUserResponseSchema, { user: toUser(user) });
}

export async function listSessions(deps: AccountDeps, ctx: HandlerContext) {
  const { user, sessionId } = await currentUser(deps, ctx);
  const rows = await listLiveAccountSessions(deps.db, user.id);
  return create(accountV1.ListSessionsResponseSchema, {
    sessions: rows.map((row) =>
      create(accountV1.SessionSchema, {
        sessionId: row.id,
        createdAt: row.created_at.toISOString(),
        lastUsedAt: row.last_used_at.toISOString(),
        expiresAt: row.expires_at.toISOString(),
        clientIp: row.client_ip,
        userAgent: row.user_agent,
        current: row.id === sessionId,
      }),
    ),
  });
}

export async function revokeSession(deps: AccountDeps, req: accountV1.RevokeSessionRequest, ctx: HandlerContext) {
  const { user } = await currentUser(deps, ctx);
  if (req.sessionId === '') throw invalidArgument('session_id is required');
  const session = await findAccountSession(deps.db, req.sessionId);
  // Another person's session is answered as one that does not exist.
  if (!session || session.user_id !== user.id) throw notFound(`no session ${req.sessionId}`);
  await revokeAccountSession(deps.db, session.id, 'revoked by its owner');
  return create(accountV1.RevokeSessionResponseSchema, {});
}

/**
 * Register with an address that has an account: the same answer as for a new one (a user that
 * is not stored, whose id names nothing), after the same work (the password was hashed, a mail
 * goes out), so that registering tells nobody which addresses have accounts. The owner of the
 * address is told by mail instead.
 */
async function registeredAgain(deps: AccountDeps, email: string, displayName: string) {
  await deps.mailer.send({
    to: email,
    subject: 'Someone tried to register with your c2pa-mesh address',
    text: `Hello,\n\nsomeone tried to register a new c2pa-mesh account with this e-mail address, which already has one. Nothing was changed.\n\nIf it was you: log in with your password, or set a new one with "forgot password". If it was not you, you need not do anything.\n`,
  });
  return create(accountV1.RegisterResponseSchema, {
    user: create(accountV1.UserSchema, { userId: newId('usr'), email, displayName, emailVerified: false, createdAt: new Date().toISOString() }),
  });
}
