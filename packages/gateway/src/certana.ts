import { unauthenticated } from '@c2pa-mesh/errors';
import { callOptions } from './caller.js';
import { envelope, field, jsonBody } from './certana-caller.js';
import { header, send, sendJson, type Exchange } from './exchange.js';
import type { RouteContext } from './gateway.js';
import type { HttpFailure } from './http-errors.js';
import { ASSET_ROUTES } from './certana-assets.js';
import { BLOCKCHAIN_ROUTES } from './certana-blockchain.js';
import { ORGANIZATION_ROUTES } from './certana-organizations.js';
import { VERIFY_ROUTES } from './certana-verify.js';

/**
 * Certana's REST shapes under `/certana/v1/`: answers in its envelope `{data, message, timestamp,
 * request_id}`, errors as `{detail, error_code, timestamp}`. Its users and tokens are the mesh's
 * accounts (AccountService): a Certana client changes only its base URL. One difference it
 * will meet: an address must be verified with the mailed code (`auth/verify-email`) before login.
 * The other endpoints live beside this file: organizations, API keys and webhooks
 * (certana-organizations.ts), assets, verification, blockchain commitments; certana-caller.ts
 * decides which organization and project a call acts on.
 */
export const CERTANA_PREFIX = '/certana/v1/';

/** Certana's error codes (its reference's table), by what failed. */
export function certanaErrorCode(failure: Pick<HttpFailure, 'status' | 'code' | 'message'>, path = ''): string {
  switch (failure.status) {
    case 401:
      if (/expired/i.test(failure.message)) return 'TOKEN_EXPIRED';
      if (path.endsWith('/auth/login')) return 'INVALID_CREDENTIALS';
      return /API key/i.test(failure.message) ? 'INVALID_API_KEY' : 'UNAUTHORIZED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return path.includes('/assets/') ? 'ASSET_NOT_FOUND' : 'NOT_FOUND';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'FILE_TOO_LARGE';
    case 429:
      return 'RATE_LIMITED';
    case 400:
      if (/unsupported file type/i.test(failure.message)) return 'INVALID_FILE_TYPE';
      return failure.code === 'failed_precondition' ? 'PRECONDITION_FAILED' : 'VALIDATION_ERROR';
    default:
      return failure.status >= 500 ? 'PROCESSING_FAILED' : 'ERROR';
  }
}

/** `POST auth/register` → 201 with the user. */
async function register(exchange: Exchange, context: RouteContext): Promise<void> {
  const body = await jsonBody(exchange);
  const { user } = await context.clientsFor(exchange.peer).account.register(
    { email: field(body, 'email'), password: field(body, 'password'), displayName: field(body, 'full_name', false) },
    callOptions(exchange),
  );
  envelope(
    exchange,
    201,
    { id: user!.userId, email: user!.email, full_name: user!.displayName, tier: 'free', email_verified: user!.emailVerified, created_at: user!.createdAt },
    `User registered; a verification code was mailed to ${user!.email} (POST auth/verify-email)`,
  );
}

/** `POST auth/verify-email` (the mesh's addition): the mailed code confirms the address. */
async function verifyEmail(exchange: Exchange, context: RouteContext): Promise<void> {
  const body = await jsonBody(exchange);
  const { user } = await context.clientsFor(exchange.peer).account.verifyEmail({ email: field(body, 'email'), code: field(body, 'code') }, callOptions(exchange));
  envelope(exchange, 200, { id: user!.userId, email: user!.email, email_verified: user!.emailVerified }, 'E-mail address verified');
}

/** `POST auth/login` → tokens. */
async function login(exchange: Exchange, context: RouteContext): Promise<void> {
  const body = await jsonBody(exchange);
  const { tokens } = await context.clientsFor(exchange.peer).account.login({ email: field(body, 'email'), password: field(body, 'password') }, callOptions(exchange));
  envelope(
    exchange,
    200,
    { access_token: tokens!.accessToken, refresh_token: tokens!.refreshToken, token_type: 'bearer', expires_in: Number(tokens!.expiresIn) },
    'Login successful',
  );
}

/** `POST auth/refresh` → a new access token, and the new refresh token (the one sent is retired). */
async function refresh(exchange: Exchange, context: RouteContext): Promise<void> {
  const body = await jsonBody(exchange);
  const { tokens } = await context.clientsFor(exchange.peer).account.refresh({ refreshToken: field(body, 'refresh_token') }, callOptions(exchange));
  envelope(
    exchange,
    200,
    { access_token: tokens!.accessToken, refresh_token: tokens!.refreshToken, token_type: 'bearer', expires_in: Number(tokens!.expiresIn) },
    'Token refreshed',
  );
}

/** `POST auth/logout` with the access token → 204: its session ends, its tokens stop working. */
async function logout(exchange: Exchange, context: RouteContext): Promise<void> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header(exchange.req, 'authorization') ?? '');
  if (!match) throw unauthenticated('logout needs "Authorization: Bearer <access token>"');
  const identity = await context.resolver.resolve({ bearerToken: match[1] });
  if (!identity || identity.kind !== 'USER' || !identity.sessionId) throw unauthenticated('logout needs a person\'s access token from auth/login, not an API key');
  await context.clientsFor(exchange.peer).account.revokeSession({ sessionId: identity.sessionId }, callOptions(exchange));
  send(exchange, 204, new Uint8Array(), {});
}

const AUTH_ROUTES: Record<string, (exchange: Exchange, context: RouteContext) => Promise<void>> = {
  'auth/register': register,
  'auth/verify-email': verifyEmail,
  'auth/login': login,
  'auth/refresh': refresh,
  'auth/logout': logout,
};

/** `POST /certana/v1/auth/…`. */
export async function certanaAuth(exchange: Exchange, context: RouteContext, rest: string): Promise<void> {
  const handle = AUTH_ROUTES[`auth/${rest}`];
  if (!handle) {
    return sendJson(exchange, 404, { detail: `no such endpoint: ${exchange.method} ${exchange.path}`, error_code: 'NOT_FOUND', timestamp: new Date().toISOString() });
  }
  await handle(exchange, context);
}

type CertanaHandler = (exchange: Exchange, context: RouteContext, id: string) => Promise<void>;

/** Every Certana endpoint beside auth: `METHOD path`, `*` standing for one id segment. */
const API_ROUTES: Record<string, CertanaHandler> = { ...ORGANIZATION_ROUTES, ...ASSET_ROUTES, ...VERIFY_ROUTES, ...BLOCKCHAIN_ROUTES };

function findApiRoute(method: string, rest: string): { handle: CertanaHandler; id: string } | undefined {
  // Certana's paths end in a slash for collections (`assets/`); without one they are accepted too.
  const path = /^[a-z-]+$/.test(rest) ? `${rest}/` : rest;
  const exact = API_ROUTES[`${method} ${path}`] as CertanaHandler | undefined;
  if (exact) return { handle: exact, id: '' };
  const slash = path.lastIndexOf('/', path.length - 2);
  const id = path.slice(slash + 1).replace(/\/$/, '');
  const handle = API_ROUTES[`${method} ${path.slice(0, slash + 1)}*`] as CertanaHandler | undefined;
  return handle && /^[A-Za-z0-9_.:-]{1,200}$/.test(id) ? { handle, id } : undefined;
}

/** `/certana/v1/…` beside `auth/`: organizations, API keys, assets, verification, commitments, webhooks. */
export async function certanaApi(exchange: Exchange, context: RouteContext, rest: string): Promise<void> {
  const route = findApiRoute(exchange.method, rest);
  if (!route) {
    return sendJson(exchange, 404, { detail: `no such endpoint: ${exchange.method} ${exchange.path}`, error_code: 'NOT_FOUND', timestamp: new Date().toISOString() });
  }
  await route.handle(exchange, context, route.id);
}
