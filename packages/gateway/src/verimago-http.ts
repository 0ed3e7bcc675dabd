import type { Identity } from '@c2pa-mesh/auth';
import { ConfigError } from '@c2pa-mesh/config';
import { invalidArgument, permissionDenied, unauthenticated } from '@c2pa-mesh/errors';
import { createHash } from 'node:crypto';
import { header, readBody, type Exchange } from './exchange.js';
import type { RouteContext } from './gateway.js';

/** Verimago's prefix on the mesh: its clients change only their base URL. */
export const VERIMAGO_PREFIX = '/verimago/v1/';

/** Verimago's rate limits (its reference's table), per minute. */
export const VERIMAGO_LIMITS = {
  /** `POST verify/url`, per client address: each call makes the server fetch a file. */
  verifyUrl: 10,
  /** `POST sign`, per key (or login token). */
  sign: 100,
  /** Every other endpoint, per key; per client address for calls without a credential. */
  other: 60,
} as const;

export type VerimagoLimit = keyof typeof VERIMAGO_LIMITS;

const MAX_JSON_BYTES = 64 * 1024;

/** The request body as a JSON object; an empty body is an empty object (Verimago's POSTs without one). */
export async function jsonObject(exchange: Exchange): Promise<Record<string, unknown>> {
  const text = Buffer.from(await readBody(exchange, MAX_JSON_BYTES, 'the JSON body')).toString('utf8');
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw invalidArgument(`the body is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('the body must be a JSON object');
  return body as Record<string, unknown>;
}

export function stringField(body: Record<string, unknown>, name: string, required = true): string {
  const value = body[name];
  if (value === undefined || value === null || value === '') {
    if (required) throw invalidArgument(`missing field "${name}"`, { details: { field: name } });
    return '';
  }
  if (typeof value !== 'string') throw invalidArgument(`"${name}" must be a string`, { details: { field: name } });
  return value;
}

/** The bearer credential as sent: a login token or an API key. */
export function bearerOf(exchange: Exchange): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header(exchange.req, 'authorization') ?? '');
  return match?.[1];
}

/** The caller's identity when its credential is valid; undefined otherwise (the RPC then refuses it). */
export async function resolvedCaller(exchange: Exchange, context: RouteContext): Promise<Identity | undefined> {
  const bearerToken = bearerOf(exchange);
  if (bearerToken === undefined) return undefined;
  try {
    return await context.resolver.resolve({ bearerToken });
  } catch {
    return undefined;
  }
}

/**
 * Counts the call against its Verimago limit before any work: per key for `sign` and the others
 * (a caller without a valid credential counts per address), per address for `verify/url`.
 * Counted in the mesh's shared rate-limit table, so the limit holds across instances.
 */
export async function admitVerimagoCall(exchange: Exchange, context: RouteContext, limit: VerimagoLimit): Promise<void> {
  if (!context.limiter) return;
  const perMinute = context.verimago?.limits?.[limit] ?? VERIMAGO_LIMITS[limit];
  const ip = exchange.peer.clientIp || 'unknown';
  const caller = limit === 'verifyUrl' ? undefined : await resolvedCaller(exchange, context);
  const target = caller
    ? { bucket: `verimago:${limit}:${caller.kind === 'API_KEY' ? 'key' : 'id'}:${caller.id}`, who: caller.kind === 'API_KEY' ? 'this API key' : 'this account' }
    : { bucket: `verimago:${limit}:ip:${createHash('sha256').update(ip).digest('hex').slice(0, 32)}`, who: `your address (${ip})` };
  await context.limiter.admit({ ...target, limit: perMinute });
}

/**
 * The caller of an endpoint that acts on "your account": a key or a login token made for an
 * organization's project. A person who belongs to no organization yet is told how to get one.
 */
export async function projectCaller(exchange: Exchange, context: RouteContext): Promise<Identity> {
  if (bearerOf(exchange) === undefined) throw unauthenticated('this endpoint needs "Authorization: Bearer <token or API key>" (POST auth/login gives a token)');
  const identity = await context.resolver.resolve({ bearerToken: bearerOf(exchange) });
  if (!identity) throw unauthenticated('missing credential');
  if (identity.projectId === undefined) {
    throw permissionDenied('your account belongs to no organization yet: apply as a publisher (POST apply) or accept an invitation, then log in again');
  }
  return identity;
}

/** Operator settings of Verimago's `verify/url`, from MESH_VERIMAGO_URL_MAX_BYTES and MESH_VERIMAGO_URL_TIMEOUT_MS. */
export function verimagoSettingsFromEnv(env: Record<string, string | undefined>): { urlMaxBytes?: number; urlTimeoutMs?: number } {
  const read = (name: string, max: number): number | undefined => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0 || value > max) throw new ConfigError(name, `expected a whole number from 1 to ${max}, got "${raw}"`);
    return value;
  };
  return { urlMaxBytes: read('MESH_VERIMAGO_URL_MAX_BYTES', 64 * 1024 ** 3), urlTimeoutMs: read('MESH_VERIMAGO_URL_TIMEOUT_MS', 600_000) };
}
