import { randomFillSync } from 'node:crypto';
import type { Interceptor, StreamRequest, StreamResponse, UnaryRequest, UnaryResponse } from '@connectrpc/connect';
import { Code, ConnectError } from '@connectrpc/connect';
import { AUDITED_PUBLIC_METHODS, METHOD_SCOPES, hasScope, type Identity, type IdentityResolver } from '@c2pa-mesh/auth';
import { permissionDenied, unauthenticated } from '@c2pa-mesh/errors';
import type { Logger } from 'pino';
import { callKey, peerKey, type CallContext } from './context.js';
import { callerAbort, codeName, toConnectError } from './error-mapping.js';

export interface AuditRecord {
  service: string;
  operation: string;
  status: 'ok' | 'error';
  code: string;
  requestId: string;
  identity?: Identity;
  projectId?: string;
  format?: string;
  sizeBytes?: number;
  durationMs: number;
  clientIp: string;
  error?: string;
}

/** Where audit events go; the registry's store in production. Must not throw for a failed call. */
export interface AuditSink {
  record(event: AuditRecord): Promise<void>;
}

/**
 * Admission control (rate limits); throws `resource_exhausted`. Run once an identity is known,
 * and with no identity for calls that present no valid credential (limited per client IP).
 */
export interface CallAdmission {
  /** The caller's standing under its limit after this call, when it is limited. */
  admit(call: { identity: Identity | undefined; clientIp: string; operation: string }): Promise<RateLimitStanding | void>;
}

/**
 * Where a limited caller stands: sent back as `x-ratelimit-limit`, `x-ratelimit-remaining` and
 * `x-ratelimit-reset` (Unix seconds when the current window ends) on its answers, so that
 * gateways can show them in the shape their former API used.
 */
export interface RateLimitStanding {
  limit: number;
  remaining: number;
  resetAt: number;
}

export const RATE_LIMIT_HEADERS = { limit: 'x-ratelimit-limit', remaining: 'x-ratelimit-remaining', reset: 'x-ratelimit-reset' } as const;

export function rateLimitHeaders(standing: RateLimitStanding): Record<string, string> {
  return {
    [RATE_LIMIT_HEADERS.limit]: String(standing.limit),
    [RATE_LIMIT_HEADERS.remaining]: String(standing.remaining),
    [RATE_LIMIT_HEADERS.reset]: String(standing.resetAt),
  };
}

export interface MeshInterceptorOptions {
  resolver: IdentityResolver;
  audit: AuditSink;
  logger: Logger;
  admission?: CallAdmission;
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{8,80}$/;

const REQUEST_ID_BYTES = 12;
/** Random bytes for 256 request ids, drawn at once: one call into the CSPRNG per 256 calls. */
const requestIdPool = Buffer.alloc(REQUEST_ID_BYTES * 256);
let requestIdPoolAt = requestIdPool.length;

export function newRequestId(): string {
  if (requestIdPoolAt === requestIdPool.length) {
    randomFillSync(requestIdPool);
    requestIdPoolAt = 0;
  }
  const id = requestIdPool.toString('base64url', requestIdPoolAt, requestIdPoolAt + REQUEST_ID_BYTES);
  requestIdPoolAt += REQUEST_ID_BYTES;
  return `req_${id}`;
}

/** Accepts a caller-chosen request id when it is well-formed (for correlation), else makes one. */
export function requestIdFrom(header: string | null | undefined): string {
  return header && REQUEST_ID_PATTERN.test(header) ? header : newRequestId();
}

/**
 * The project a person's access token made for none acts on in this call (their organizations
 * may own several). Their role there is checked on the call as for a token made for the project.
 */
export const PROJECT_HEADER = 'x-c2pa-project';

function bearerToken(header: Headers): string | undefined {
  const authorization = header.get('authorization');
  if (authorization !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw unauthenticated('the Authorization header must be "Bearer <api key>"');
    return match[1];
  }
  return header.get('x-api-key') ?? undefined;
}

function shortService(typeName: string): string {
  // c2pamesh.signing.v1.SigningService → signing; grpc.health.v1.Health → health
  const parts = typeName.split('.');
  return parts.length >= 3 ? parts[parts.length - 3] : typeName;
}

type AnyRequest = UnaryRequest | StreamRequest;
type AnyResponse = UnaryResponse | StreamResponse;

/** The call context the request-id interceptor made; later interceptors read and fill it. */
function callOf(req: AnyRequest): CallContext {
  const call = req.contextValues.get(callKey);
  if (!call) throw new Error('the request-id interceptor must come first');
  return call;
}

/**
 * Runs `onEnd` once a response is complete: at once for a unary call, after the last message (or
 * the error, or the caller going away) of a stream. `mapError` turns an error met mid-stream into
 * what is thrown on.
 */
function observeResponse(res: AnyResponse, onEnd: (error: unknown) => Promise<void> | void, mapError: (error: unknown) => Promise<unknown> | unknown = (e) => e): Promise<AnyResponse> | AnyResponse {
  if (!res.stream) return Promise.resolve(onEnd(undefined)).then(() => res);
  const source = res.message;
  async function* observed() {
    let failure: unknown;
    try {
      yield* source;
    } catch (cause) {
      failure = await mapError(cause);
      throw failure;
    } finally {
      // Also reached when the caller cancels mid-stream.
      await onEnd(failure);
    }
  }
  return { ...res, message: observed() } as StreamResponse;
}

/** 1. Request id: a caller's well-formed `x-request-id` or a new one, echoed on the response. */
export function requestIdInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const peer = req.contextValues.get(peerKey);
    const requestId = peer?.requestId ?? requestIdFrom(req.header.get('x-request-id'));
    const call: CallContext = {
      requestId,
      startedAt: performance.now(),
      logger: logger.child({ requestId, operation: req.method.name, service: shortService(req.service.typeName) }),
    };
    req.contextValues.set(callKey, call);
    const res = await next(req);
    res.header.set('x-request-id', requestId);
    return res;
  };
}

/**
 * 2. Log and audit: one log line and one audit event per call, with the outcome the caller sees
 * (the error mapping runs inside it). Calls that need no identity (health probes every few
 * seconds, reflection describing the public API) touch no project's data: not worth an audit row
 * each, and anyone could fill the table with them. Signing in is the exception
 * (AUDITED_PUBLIC_METHODS). In-process hops between services are covered by the event of the
 * call that caused them.
 */
export function auditInterceptor(audit: AuditSink): Interceptor {
  return (next) => async (req) => {
    const call = callOf(req);
    const peer = req.contextValues.get(peerKey);
    const operation = `${req.service.typeName}/${req.method.name}`;
    const audited = (METHOD_SCOPES[operation] !== 'public' || AUDITED_PUBLIC_METHODS.has(operation)) && !peer?.internalCall;
    const finish = async (error: unknown) => {
      // A stream the caller abandoned ends without an error of its own: recorded as why it ended.
      const abandoned = error === undefined && req.stream ? callerAbort(req.signal, req.header, performance.now() - (peer?.receivedAt ?? call.startedAt)) : undefined;
      const connectError = error !== undefined ? ConnectError.from(error) : abandoned && toConnectError(abandoned, call.requestId).connectError;
      const durationMs = Math.round(performance.now() - call.startedAt);
      const code = connectError ? codeName(connectError.code) : 'ok';
      const unexpected = call.unexpectedCause !== undefined;
      if (connectError && unexpected) call.logger.error({ err: call.unexpectedCause, code, durationMs }, 'call failed');
      else call.logger.info({ code, durationMs, identity: call.identity?.id, projectId: call.projectId }, connectError ? `call refused: ${connectError.rawMessage}` : 'call done');
      if (!audited) return;
      try {
        await audit.record({
          service: shortService(req.service.typeName),
          operation: req.method.name,
          status: connectError ? 'error' : 'ok',
          code,
          requestId: call.requestId,
          identity: call.identity,
          projectId: call.projectId,
          format: call.format,
          sizeBytes: call.sizeBytes,
          durationMs,
          clientIp: peer?.clientIp ?? '',
          error: connectError?.rawMessage,
        });
      } catch (auditError) {
        call.logger.error({ err: auditError }, 'audit event could not be written');
      }
    };
    let res: AnyResponse;
    try {
      res = await next(req);
    } catch (error) {
      await finish(error);
      throw error;
    }
    return observeResponse(res, finish);
  };
}

/**
 * 3. Error mapping: every error leaves as the one mapping makes it (`toConnectError`), with the
 * request id; a call that ended because its caller went away or its deadline passed is said so.
 */
export function errorMappingInterceptor(): Interceptor {
  return (next) => async (req) => {
    const call = callOf(req);
    const peer = req.contextValues.get(peerKey);
    const map = (cause: unknown) => {
      const aborted = callerAbort(req.signal, req.header, performance.now() - (peer?.receivedAt ?? call.startedAt));
      if (aborted) call.logger.debug({ err: cause }, 'failed after the caller cancelled or the deadline passed');
      const { connectError, expected } = toConnectError(aborted ?? cause, call.requestId);
      if (!expected) call.unexpectedCause = cause;
      return connectError;
    };
    let res: AnyResponse;
    try {
      res = await next(req);
    } catch (cause) {
      throw map(cause);
    }
    return res.stream ? observeResponse(res, () => undefined, map) : res;
  };
}

/**
 * 4. Authentication: the identity set by construction (in-process callers), the verified client
 * certificate, or the API key in `Authorization: Bearer` / `X-API-Key`. Calls that present no
 * valid credential are admitted against the client's address first, so that keys cannot be
 * guessed at speed.
 */
export function authenticationInterceptor(resolver: IdentityResolver, admission?: CallAdmission): Interceptor {
  return (next) => async (req) => {
    const operation = `${req.service.typeName}/${req.method.name}`;
    if ((METHOD_SCOPES[operation] ?? ['admin']) === 'public') return next(req);
    const call = callOf(req);
    const peer = req.contextValues.get(peerKey);
    const clientIp = peer?.clientIp ?? '';
    let identity: Identity | undefined;
    try {
      identity = peer?.presetIdentity ?? (await resolver.resolve({ ...(peer?.credentials ?? {}), bearerToken: bearerToken(req.header), projectId: req.header.get(PROJECT_HEADER) ?? undefined }));
    } catch (err) {
      if (admission) await admission.admit({ identity: undefined, clientIp, operation });
      throw err;
    }
    if (!identity) {
      if (admission) await admission.admit({ identity: undefined, clientIp, operation });
      throw unauthenticated('this call needs an identity: a client certificate issued by the mesh CA, or "Authorization: Bearer <api key>"');
    }
    call.identity = identity;
    call.projectId = identity.projectId;
    return next(req);
  };
}

/** 5. Admission: the rate limits of the identity (or the client's address). */
export function admissionInterceptor(admission: CallAdmission): Interceptor {
  return (next) => async (req) => {
    const identity = callOf(req).identity;
    const standing = identity ? await admission.admit({ identity, clientIp: req.contextValues.get(peerKey)?.clientIp ?? '', operation: `${req.service.typeName}/${req.method.name}` }) : undefined;
    const res = await next(req);
    if (standing) for (const [name, value] of Object.entries(rateLimitHeaders(standing))) res.header.set(name, value);
    return res;
  };
}

/** 6. Authorization: the API key's allowed origins, and the scopes the method needs. */
export function authorizationInterceptor(): Interceptor {
  return (next) => async (req) => {
    const operation = `${req.service.typeName}/${req.method.name}`;
    const requirement = METHOD_SCOPES[operation] ?? ['admin'];
    if (requirement === 'public') return next(req);
    const identity = callOf(req).identity;
    if (!identity) throw unauthenticated('this call needs a client certificate or an API key');
    const origin = req.header.get('origin');
    if (origin && identity.allowedOrigins && identity.allowedOrigins.length > 0 && !identity.allowedOrigins.includes(origin)) {
      throw permissionDenied(`origin ${origin} is not allowed for this API key`);
    }
    if (requirement !== 'authenticated' && !requirement.some((scope) => hasScope(identity, scope))) {
      throw permissionDenied(`${operation.split('/')[1]} needs the scope ${requirement.join(' or ')}, which this identity does not have`);
    }
    return next(req);
  };
}

/**
 * The mesh's server interceptors in the order a request meets them: its id, then the log and audit
 * event that records how it ended, the error mapping that decides what the caller hears, who is
 * calling, whether they may call now (rate limits), and whether they may call this method.
 */
export function createMeshInterceptors(options: MeshInterceptorOptions): Interceptor[] {
  const { resolver, audit, logger, admission } = options;
  return [
    requestIdInterceptor(logger),
    auditInterceptor(audit),
    errorMappingInterceptor(),
    authenticationInterceptor(resolver, admission),
    ...(admission ? [admissionInterceptor(admission)] : []),
    authorizationInterceptor(),
  ];
}

/** The same chain as one interceptor, for routers that take a single one. */
export function createMeshInterceptor(options: MeshInterceptorOptions): Interceptor {
  const chain = createMeshInterceptors(options);
  return (next) => chain.reduceRight((inner, interceptor) => interceptor(inner), next);
}

export { Code, ConnectError };
