import { ConnectError } from '@connectrpc/connect';
import type { IdentityResolver } from '@c2pa-mesh/auth';
import type { CallerClients } from '@c2pa-mesh/clients';
import type { AuditSink, PeerContext } from '@c2pa-mesh/server';
import { isMeshError } from '@c2pa-mesh/errors';
import type { Logger } from 'pino';
import { noteRateLimit } from './caller.js';
import { elapsedMs, openExchange, sendJson, type Exchange, type GatewayRequest, type GatewayResponse, type PendingAudit } from './exchange.js';
import { httpFailureFor, type GatewayOperation, type HttpFailure } from './http-errors.js';
import { digiCertSign } from './digicert.js';
import { health, mirrorStageSign, mirrorStageVerify, warmup } from './mirrorstage.js';
import { verimagoSign, verimagoVerifyByHash } from './verimago.js';
import { meshJwks, mintallCertificate, mintallJwks, mintallVerify, type PublicProductCertificates } from './mintall.js';
import type { FileUrlFetcher } from './file-url.js';
import { certanaApi, certanaAuth, certanaErrorCode } from './certana.js';
import { devicePage } from './device-page.js';
import { sbrManifest, sbrMatchesByBindingGet, sbrMatchesByBindingPost, sbrMatchesByContent, sbrSupportedAlgorithms } from './soft-binding-resolution.js';
import { VERIMAGO_ROUTES } from './verimago-routes.js';
import type { VerimagoLimit } from './verimago-http.js';
import { verimagoActivateCertificate, verimagoApplicationStatus, verimagoApply } from './verimago-onboarding.js';

export interface GatewayOptions {
  /** Clients that act as the HTTP caller (see createCallerClientsFactory). */
  clientsFor(peer: PeerContext): CallerClients;
  /** Used only to learn a caller's size limit before reading its upload. */
  resolver: IdentityResolver;
  /** The C2PA engine pool, when this process runs one: `POST /v1/warmup` warms it. */
  engine?: { warmup(): Promise<void>; stats(): { threads: number } };
  /** Fetches `file_url` uploads under the same SSRF rules as VerifyUrl. Absent: file_url is refused. */
  urlFetcher?: FileUrlFetcher;
  /** Records the calls the gateway refuses itself, before any RPC (bad forms, oversized uploads). */
  audit?: AuditSink;
  logger: Logger;
  /** False while the process drains: health answers 503. */
  serving?: () => boolean;
  /** Public lookups by hash per minute and client address (default 1000, as Verimago). */
  publicLookupsPerMinute?: number;
  /** Mintall's public MC4P API and the proof JWKS, where this process runs product certificates. */
  productCertificates?: PublicProductCertificates;
  /** The public keys of people's access tokens (AccountService), merged into `/.well-known/jwks.json`. */
  accountKeys?: { jwks(): Promise<{ keys: object[] }> };
  /**
   * Counts calls in named buckets shared by every instance (the mesh's rate-limit table), for
   * limits that are not an identity's own: Verimago's per-endpoint limits. Absent: not limited.
   */
  limiter?: { admit(target: { bucket: string; limit: number; who: string }): Promise<unknown> };
  /** Verimago's `verify/url` limits (default 500 MB, 25 s) and per-minute limits, when not its own. */
  verimago?: { urlMaxBytes?: number; urlTimeoutMs?: number; limits?: Partial<Record<VerimagoLimit, number>> };
  /**
   * Uploads (multipart `file`) larger than `thresholdBytes` are spooled to a private file under
   * `spoolDir` and signed through SignStream, the signed file spooled beside it: never whole in
   * memory. Absent: uploads are held in memory up to the key's limit.
   */
  largeUploads?: { thresholdBytes: number; spoolDir: string };
}

/** How an API answered errors: MirrorStage and Verimago `{error}`, DigiCert OAuth-style codes, Certana `{detail, error_code}`. */
export type ErrorStyle = 'message' | 'oauth' | 'certana';

export type RouteContext = GatewayOptions;

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Exact path, or a prefix ending in `/` whose remainder is passed to the handler. */
  path: string;
  /** For a prefix: whether this route takes that remainder (several routes may share a prefix). */
  accepts?(rest: string): boolean;
  /** With a prefix: the path must also end so; the handler gets what lies between. Such a route wins over its bare prefix. */
  suffix?: string;
  operation: GatewayOperation;
  errorStyle: ErrorStyle;
  handle(exchange: Exchange, context: RouteContext, rest: string): Promise<void>;
}

const ROUTES: Route[] = [
  { method: 'GET', path: '/v1/health', operation: 'other', errorStyle: 'message', handle: health },
  { method: 'POST', path: '/v1/warmup', operation: 'other', errorStyle: 'message', handle: warmup },
  {
    method: 'POST',
    path: '/v1/sign',
    operation: 'sign',
    errorStyle: 'message',
    handle: signEither,
  },
  { method: 'POST', path: '/v1/verify', operation: 'verify', errorStyle: 'message', handle: mirrorStageVerify },
  { method: 'GET', path: '/v1/verify/', operation: 'lookup', errorStyle: 'message', handle: verimagoVerifyByHash },
  { method: 'POST', path: '/c2pa/v1/sign', operation: 'sign', errorStyle: 'oauth', handle: digiCertSign },
  // DigiCert's clients call this full path on their host; only the base URL should change.
  { method: 'POST', path: '/documentmanager/api/c2pa/v1/sign', operation: 'sign', errorStyle: 'oauth', handle: digiCertSign },
  // Mintall's MC4P API: public, no credentials; its clients change only the base URL.
  { method: 'GET', path: '/.well-known/jwks.json', operation: 'lookup', errorStyle: 'message', handle: meshJwks },
  { method: 'GET', path: '/mintall/api/v1/.well-known/jwks.json', operation: 'lookup', errorStyle: 'message', handle: mintallJwks },
  { method: 'GET', path: '/mintall/api/v1/mc4p/', operation: 'lookup', errorStyle: 'message', handle: mintallCertificate },
  // Certana's API: people's accounts (register, verify the address, log in, refresh, log out).
  { method: 'POST', path: '/certana/v1/auth/', operation: 'other', errorStyle: 'certana', handle: certanaAuth },
  { method: 'POST', path: '/mintall/api/v1/mc4p/', operation: 'lookup', errorStyle: 'message', handle: mintallVerify },
  // The C2PA Soft Binding Resolution API.
  { method: 'GET', path: '/sbr/v1/services/supportedAlgorithms', operation: 'other', errorStyle: 'message', handle: sbrSupportedAlgorithms },
  { method: 'GET', path: '/sbr/v1/matches/byBinding', operation: 'lookup', errorStyle: 'message', handle: sbrMatchesByBindingGet },
  { method: 'POST', path: '/sbr/v1/matches/byBinding', operation: 'lookup', errorStyle: 'message', handle: sbrMatchesByBindingPost },
  { method: 'POST', path: '/sbr/v1/matches/byContent', operation: 'lookup', errorStyle: 'message', handle: sbrMatchesByContent },
  { method: 'GET', path: '/sbr/v1/manifests/', operation: 'lookup', errorStyle: 'message', handle: sbrManifest },
  // MirrorStage under its own prefix too, beside the unprefixed paths: the same routes.
  { method: 'GET', path: '/mirrorstage/v1/health', operation: 'other', errorStyle: 'message', handle: health },
  { method: 'POST', path: '/mirrorstage/v1/warmup', operation: 'other', errorStyle: 'message', handle: warmup },
  { method: 'POST', path: '/mirrorstage/v1/sign', operation: 'sign', errorStyle: 'message', handle: signEither },
  { method: 'POST', path: '/mirrorstage/v1/verify', operation: 'verify', errorStyle: 'message', handle: mirrorStageVerify },
  // Verimago's whole API under `/verimago/v1/`.
  ...VERIMAGO_ROUTES,
  // Verimago's onboarding: applications (public) and activating the certificate issued on approval.
  { method: 'POST', path: '/verimago/v1/apply', operation: 'other', errorStyle: 'message', handle: verimagoApply },
  { method: 'GET', path: '/verimago/v1/apply/', operation: 'lookup', errorStyle: 'message', handle: verimagoApplicationStatus },
  { method: 'PATCH', path: '/verimago/v1/certs/', suffix: '/activate', operation: 'other', errorStyle: 'message', handle: verimagoActivateCertificate },
  // The rest of Certana's API (organizations, API keys, assets, verify, blockchain, webhooks).
  { method: 'GET', path: '/certana/v1/', operation: 'other', errorStyle: 'certana', handle: certanaApi },
  { method: 'POST', path: '/certana/v1/', operation: 'other', errorStyle: 'certana', handle: certanaApi },
  { method: 'PATCH', path: '/certana/v1/', operation: 'other', errorStyle: 'certana', handle: certanaApi },
  { method: 'DELETE', path: '/certana/v1/', operation: 'other', errorStyle: 'certana', handle: certanaApi },
  // Where a person approves a device login (`c2pa-mesh login` without a password).
  { method: 'GET', path: '/device', operation: 'other', errorStyle: 'message', handle: devicePage },
];

function isJson(exchange: Exchange): boolean {
  return /^application\/json\b/i.test(String(exchange.req.headers['content-type'] ?? ''));
}

/** One path, two APIs: MirrorStage uploads a file as a form, Verimago sends a hash as JSON. */
function signEither(exchange: Exchange, context: RouteContext): Promise<void> {
  return isJson(exchange) ? verimagoSign(exchange, context) : mirrorStageSign(exchange, context);
}

/** A path segment as sent when it is not valid percent-encoding (the handler then finds nothing). */
function decodePath(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function matchRoute(method: string, path: string): { route: Route; rest: string } | { allowed: string[] } | undefined {
  const restOf = (r: Route) => (r.path === path ? '' : decodePath(path.slice(r.path.length, path.length - (r.suffix?.length ?? 0))));
  const candidates = ROUTES.filter(
    (r) =>
      (r.path === path || (r.path.endsWith('/') && path.startsWith(r.path) && path.length > r.path.length)) &&
      (!r.suffix || path.endsWith(r.suffix)) &&
      (!r.accepts || r.accepts(restOf(r))),
  );
  if (candidates.length === 0) return undefined;
  const route = candidates.find((r) => r.method === method && r.suffix) ?? candidates.find((r) => r.method === method);
  if (!route) return { allowed: [...new Set(candidates.map((r) => r.method))] };
  return { route, rest: restOf(route) };
}

const OAUTH_ERRORS: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'access_denied',
  404: 'not_found',
  409: 'conflict',
  413: 'request_too_large',
  429: 'too_many_requests',
  501: 'not_implemented',
  502: 'temporarily_unavailable',
  504: 'request_timeout',
};

/** The JSON error body in the shape the caller's former API used. */
export function errorBody(style: ErrorStyle, failure: Pick<HttpFailure, 'status' | 'code' | 'message'>, requestId: string, path = ''): Record<string, string> {
  if (style === 'certana') return { detail: failure.message, error_code: certanaErrorCode(failure, path), timestamp: new Date().toISOString() };
  if (style === 'oauth') {
    return { error: OAUTH_ERRORS[failure.status] ?? 'server_error', error_description: failure.message, request_id: requestId };
  }
  return { error: failure.message, request_id: requestId };
}

export function sendFailure(exchange: Exchange, failure: HttpFailure, style: ErrorStyle): void {
  const headers: Record<string, string> = {};
  if (failure.retryAfter !== undefined) headers['retry-after'] = failure.retryAfter;
  if (failure.status === 401) headers['www-authenticate'] = 'Bearer realm="c2pa-mesh"';
  sendJson(exchange, failure.status, errorBody(style, failure, exchange.requestId, exchange.path), headers);
}

/** Browsers may call the gateway from pages: answer preflights; API keys still check origins. */
function answerPreflight(exchange: Exchange): void {
  const origin = exchange.req.headers.origin;
  exchange.res.writeHead(204, {
    'access-control-allow-origin': typeof origin === 'string' ? origin : '*',
    'access-control-allow-methods': 'GET, POST, PATCH, DELETE',
    'access-control-allow-headers': 'authorization, content-type, x-api-key, x-request-id, x-organization-id',
    'access-control-expose-headers': 'x-request-id, x-duration-ms, retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset',
    'access-control-max-age': '600',
    vary: 'origin',
    'x-request-id': exchange.requestId,
  });
  exchange.res.end();
}

/**
 * The drop-in HTTP gateway: the request shapes of the hosted signing APIs (MirrorStage,
 * Verimago, DigiCert) on the mesh's TLS listener, beside Connect. Every call it makes goes
 * through the mesh's interceptors as the HTTP caller, so the same authentication, scopes, limits
 * and audit apply as to an RPC.
 */
export function createGateway(options: GatewayOptions): (req: GatewayRequest, res: GatewayResponse) => void {
  const { logger } = options;
  const context: RouteContext = options;

  async function serve(exchange: Exchange): Promise<void> {
    if (exchange.method === 'OPTIONS') return answerPreflight(exchange);
    const matched = matchRoute(exchange.method, exchange.path);
    if (!matched) {
      return sendJson(exchange, 404, { error: `no such endpoint: ${exchange.method} ${exchange.path}`, request_id: exchange.requestId });
    }
    if ('allowed' in matched) {
      return sendJson(exchange, 405, { error: `${exchange.method} is not allowed on ${exchange.path}; use ${matched.allowed.join(' or ')}`, request_id: exchange.requestId }, { allow: matched.allowed.join(', ') });
    }
    const { route, rest } = matched;
    exchange.res.setHeader('access-control-allow-origin', '*');
    exchange.res.setHeader('access-control-expose-headers', 'x-request-id, x-duration-ms, retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset');
    try {
      await route.handle(exchange, context, rest);
    } catch (error) {
      const failure = httpFailureFor(error, route.operation, exchange.requestId);
      if (error instanceof ConnectError) noteRateLimit(exchange, error.metadata);
      else if (isMeshError(error)) noteRateLimit(exchange, new Headers(error.metadata));
      if (failure.unexpected) logger.error({ err: error, requestId: exchange.requestId, path: exchange.path }, 'gateway call failed');
      // Errors from the RPCs were audited by the interceptors; the gateway's own refusals were not.
      if (!(error instanceof ConnectError) && exchange.pendingAudit && options.audit) await auditRefusal(exchange, exchange.pendingAudit, failure, error, options.audit, logger);
      sendFailure(exchange, failure, route.errorStyle);
    }
  }

  return (req, res) => {
    const exchange = openExchange(req, res);
    serve(exchange)
      .catch((err) => {
        logger.error({ err, requestId: exchange.requestId }, 'gateway response failed');
        if (!res.headersSent) sendJson(exchange, 500, { error: `internal error (request id ${exchange.requestId})`, request_id: exchange.requestId });
        else res.destroy();
      })
      .finally(() => {
        logger.info({ requestId: exchange.requestId, method: exchange.method, path: exchange.path, status: res.statusCode, durationMs: elapsedMs(exchange), clientIp: exchange.peer.clientIp }, 'gateway request');
      });
  };
}

async function auditRefusal(exchange: Exchange, refusal: PendingAudit, failure: HttpFailure, error: unknown, audit: AuditSink, logger: Logger): Promise<void> {
  const { identity } = refusal;
  try {
    await audit.record({
      service: refusal.service,
      operation: refusal.operation,
      status: 'error',
      code: failure.code,
      requestId: exchange.requestId,
      identity,
      projectId: identity.projectId,
      format: refusal.format,
      sizeBytes: refusal.sizeBytes,
      durationMs: elapsedMs(exchange),
      clientIp: exchange.peer.clientIp,
      error: isMeshError(error) ? error.message : failure.message,
    });
  } catch (auditError) {
    logger.error({ err: auditError, requestId: exchange.requestId }, 'audit event could not be written');
  }
}
