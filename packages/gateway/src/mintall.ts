import { createHash } from 'node:crypto';
import { header, readBody, send, type Exchange } from './exchange.js';
import type { RouteContext } from './gateway.js';

/**
 * Mintall's public MC4P verification API (under `/mintall/api/v1/`) and the JWKS of the proofs:
 * no credentials, Mintall's status codes, cache headers as its caching guidance says. JWKS and
 * certificates are cacheable and carry a strong ETag (If-None-Match answers 304); verify answers
 * are never cached, as they depend on the request and on the certificate's state now.
 */

const CACHEABLE = 'public, max-age=300, must-revalidate';

/** Largest verify request body read. */
const MAX_VERIFY_BODY_BYTES = 16 * 1024;

/** An answer of the public API: Mintall's status code and its JSON body. */
export interface PublicAnswer {
  status: 200 | 400 | 402 | 403 | 404 | 412 | 422;
  body: Record<string, unknown>;
}

/**
 * What the gateway calls to answer Mintall's public requests: the product-certificate service's
 * public side, which the mesh passes in (the gateway names the shape it calls rather than
 * importing a service).
 */
export interface PublicProductCertificates {
  jwks(): Promise<{ keys: object[] }>;
  certificate(imageId: string, options: { full: boolean }): Promise<PublicAnswer>;
  verify(imageId: string, request: unknown): Promise<PublicAnswer>;
}

function body(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** 200 with an ETag, or 304 when the caller already holds this representation. */
function sendCacheable(exchange: Exchange, value: unknown, contentType: string): void {
  const payload = body(value);
  const etag = `"${createHash('sha256').update(payload).digest('base64url')}"`;
  const headers = { 'cache-control': CACHEABLE, etag, 'content-type': contentType, vary: 'accept-encoding' };
  if (ifNoneMatch(header(exchange.req, 'if-none-match'), etag)) {
    exchange.res.writeHead(304, { ...headers, 'x-request-id': exchange.requestId });
    exchange.res.end();
    return;
  }
  send(exchange, 200, payload, headers);
}

/** RFC 9110 §13.1.2: a list of entity tags or `*`, compared weakly. */
function ifNoneMatch(value: string | undefined, etag: string): boolean {
  if (value === undefined) return false;
  if (value.trim() === '*') return true;
  return value.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

function sendUncached(exchange: Exchange, answer: PublicAnswer): void {
  send(exchange, answer.status, body({ ...answer.body, request_id: exchange.requestId }), {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
}

function notFoundHere(exchange: Exchange, message: string): void {
  sendUncached(exchange, { status: 404, body: { errors: [{ code: 'not_found', message }] } });
}

/** `GET /mintall/api/v1/.well-known/jwks.json`: the keys of the MC4P proofs. */
export async function mintallJwks(exchange: Exchange, context: RouteContext): Promise<void> {
  if (!context.productCertificates) return notFoundHere(exchange, 'product certificates are not served by this process');
  sendCacheable(exchange, await context.productCertificates.jwks(), 'application/jwk-set+json');
}

/**
 * `GET /.well-known/jwks.json`: one JWKS of every key the mesh signs JWTs with, the MC4P proof
 * keys and the keys of people's access tokens; each key's kid names what it signs.
 */
export async function meshJwks(exchange: Exchange, context: RouteContext): Promise<void> {
  if (!context.productCertificates && !context.accountKeys) return notFoundHere(exchange, 'no JWT keys are served by this process');
  const sets = await Promise.all([context.productCertificates?.jwks(), context.accountKeys?.jwks()]);
  sendCacheable(exchange, { keys: sets.flatMap((set) => set?.keys ?? []) }, 'application/jwk-set+json');
}

/** `GET mc4p/{image_id}/certificate[?full=true]`. */
export async function mintallCertificate(exchange: Exchange, context: RouteContext, rest: string): Promise<void> {
  const match = /^([^/]+)\/certificate$/.exec(rest);
  if (!match) return notFoundHere(exchange, `no such endpoint: ${exchange.method} ${exchange.path}`);
  if (!context.productCertificates) return notFoundHere(exchange, 'product certificates are not served by this process');
  const full = new URL(exchange.req.url ?? '/', 'https://gateway').searchParams.get('full');
  const answer = await context.productCertificates.certificate(match[1], { full: full === 'true' || full === '1' });
  if (answer.status !== 200) return sendUncached(exchange, answer);
  sendCacheable(exchange, answer.body, full === 'true' || full === '1' ? 'application/ld+json' : 'application/json; charset=utf-8');
}

/** `POST mc4p/{image_id}/verify` with `{domain, verifyField?, fieldValue?}`. */
export async function mintallVerify(exchange: Exchange, context: RouteContext, rest: string): Promise<void> {
  const match = /^([^/]+)\/verify$/.exec(rest);
  if (!match) return notFoundHere(exchange, `no such endpoint: ${exchange.method} ${exchange.path}`);
  if (!context.productCertificates) return notFoundHere(exchange, 'product certificates are not served by this process');
  const raw = await readBody(exchange, MAX_VERIFY_BODY_BYTES, 'the verification request');
  let request: unknown;
  try {
    request = JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch {
    return sendUncached(exchange, { status: 400, body: { verified: false, imageId: match[1], errors: [{ code: 'invalid_request', message: 'the body is not JSON; send {"domain": "merchant.example"}' }] } });
  }
  sendUncached(exchange, await context.productCertificates.verify(match[1], request));
}
