import { callOptions } from './caller.js';
import { sendJson, type Exchange } from './exchange.js';
import type { RouteContext } from './gateway.js';
import { jsonObject, stringField } from './verimago-http.js';

/**
 * Verimago's accounts (`/verimago/v1/auth/…`) are the mesh's: AccountService registers, mails the
 * codes, checks passwords and limits attempts. These handlers only translate the shapes.
 */

/** `POST auth/register` {email, password, name} → 201 {message, userId}; the code goes by mail. */
async function register(exchange: Exchange, context: RouteContext): Promise<void> {
  const body = await jsonObject(exchange);
  const { user } = await context.clientsFor(exchange.peer).account.register(
    { email: stringField(body, 'email'), password: stringField(body, 'password'), displayName: stringField(body, 'name', false) },
    callOptions(exchange),
  );
  sendJson(exchange, 201, { message: 'Verification email sent', userId: user!.userId });
}

/** `POST auth/verify-email` {email, code}. */
async function verifyEmail(exchange: Exchange, context: RouteContext): Promise<void> {
  const body = await jsonObject(exchange);
  const { user } = await context.clientsFor(exchange.peer).account.verifyEmail({ email: stringField(body, 'email'), code: stringField(body, 'code') }, callOptions(exchange));
  sendJson(exchange, 200, { message: 'Email verified', userId: user!.userId, email: user!.email });
}

/**
 * `POST auth/login` {email, password} → {token, user: {email, role}}. Verimago's token acts for
 * the publisher's organization: the token is made for the first project of the person's first
 * organization (or for `projectId`, when the body names one), and `role` is their role there
 * (`owner`, `admin`, `member`, `viewer`); `user` for a person in no organization yet, whose token
 * can only reach their own account.
 */
async function login(exchange: Exchange, context: RouteContext): Promise<void> {
  const body = await jsonObject(exchange);
  const { account } = context.clientsFor(exchange.peer);
  const options = callOptions(exchange);
  const requestedProject = stringField(body, 'projectId', false);
  const signedIn = await account.login({ email: stringField(body, 'email'), password: stringField(body, 'password'), projectId: requestedProject }, options);
  let tokens = signedIn.tokens!;
  const asPerson = { ...options, headers: new Headers({ authorization: `Bearer ${tokens.accessToken}` }) };
  const { organizations } = await account.listOrganizations({}, asPerson);
  const organization = requestedProject
    ? organizations.find((org) => org.projectIds.includes(requestedProject))
    : organizations.find((org) => org.projectIds.length > 0);
  if (organization && !requestedProject) {
    // The same session, its token now made for the organization's project.
    tokens = (await account.refresh({ refreshToken: tokens.refreshToken, projectId: organization.projectIds[0] }, options)).tokens!;
  }
  sendJson(exchange, 200, {
    token: tokens.accessToken,
    user: { email: signedIn.user!.email, role: organization?.role ?? 'user' },
    // Beyond Verimago's shape: when the token stops working, and what it acts on.
    expiresIn: Number(tokens.expiresIn),
    organizationId: organization?.organizationId ?? null,
    projectId: tokens.projectId || null,
  });
}

/** `POST auth/forgot-password` {email}: the same answer whether or not the address is known. */
async function forgotPassword(exchange: Exchange, context: RouteContext): Promise<void> {
  const body = await jsonObject(exchange);
  await context.clientsFor(exchange.peer).account.forgotPassword({ email: stringField(body, 'email') }, callOptions(exchange));
  sendJson(exchange, 200, { message: 'If an account exists for this address, a reset code was sent to it' });
}

/** `POST auth/reset-password` {email, code, newPassword}: every session of the account ends. */
async function resetPassword(exchange: Exchange, context: RouteContext): Promise<void> {
  const body = await jsonObject(exchange);
  await context
    .clientsFor(exchange.peer)
    .account.resetPassword({ email: stringField(body, 'email'), code: stringField(body, 'code'), newPassword: stringField(body, 'newPassword') }, callOptions(exchange));
  sendJson(exchange, 200, { message: 'Password reset; log in with the new password' });
}

export const VERIMAGO_AUTH = { register, verifyEmail, login, forgotPassword, resetPassword };
