import { randomBytes } from 'node:crypto';
import type { Interceptor, StreamResponse, UnaryResponse } from '@connectrpc/connect';
import { Code, ConnectError } from '@connectrpc/connect';
import { METHOD_SCOPES, hasScope, type Identity, type IdentityResolver } from '@c2pa-mesh/auth';
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
  admit(call: { identity: Identity | undefined; clientIp: string; operation: string }): Promise<void>;
}

export interface MeshInterceptorOptions {
  resolver: IdentityResolver;
  audit: AuditSink;
  logger: Logger;
  admission?: CallAdmission;
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{8,80}$/;

export function newRequestId(): string {
  return `req_${randomBytes(12).toString('base64url')}`;
}

/** Accepts a caller-chosen request id when it is well-formed (for correlation), else makes one. */
export function requestIdFrom(header: string | null | undefined): string {
  return header && REQUEST_ID_PATTERN.test(header) ? header : newRequestId();
}

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

/**
 * The mesh's server interceptor: request id, authentication and scope checks, admission (rate
 * limits), error mapping, structured logging and one audit event per call — for unary and
 * streaming calls alike, denied and failed calls included.
 */
export function createMeshInterceptor(options: MeshInterceptorOptions): Interceptor {
  const { resolver, audit, logger, admission } = options;

  async function authorize(operation: string, header: Headers, call: CallContext, clientIp: string, peerIdentity: Identity | undefined, credentials: Parameters<IdentityResolver['resolve']>[0]) {
    const requirement = METHOD_SCOPES[operation] ?? ['admin'];
    if (requirement === 'public') return;
    let identity: Identity | undefined;
    try {
      identity = peerIdentity ?? (await resolver.resolve({ ...credentials, bearerToken: bearerToken(header) }));
    } catch (err) {
      // Bad credentials count against the client's address, so that keys cannot be guessed at speed.
      if (admission) await admission.admit({ identity: undefined, clientIp, operation });
      throw err;
    }
    if (!identity) {
      if (admission) await admission.admit({ identity: undefined, clientIp, operation });
      throw unauthenticated('this call needs an identity: a client certificate issued by the mesh CA, or "Authorization: Bearer <api key>"');
    }
    call.identity = identity;
    call.projectId = identity.projectId;
    if (admission) await admission.admit({ identity, clientIp, operation });
    const origin = header.get('origin');
    if (origin && identity.allowedOrigins && identity.allowedOrigins.length > 0 && !identity.allowedOrigins.includes(origin)) {
      throw permissionDenied(`origin ${origin} is not allowed for this API key`);
    }
    if (requirement !== 'authenticated' && !requirement.some((scope) => hasScope(identity, scope))) {
      throw permissionDenied(`${operation.split('/')[1]} needs the scope ${requirement.join(' or ')}, which this identity does not have`);
    }
  }

  return (next) => async (req) => {
    const peer = req.contextValues.get(peerKey);
    const requestId = peer?.requestId ?? requestIdFrom(req.header.get('x-request-id'));
    const operation = `${req.service.typeName}/${req.method.name}`;
    const service = shortService(req.service.typeName);
    const clientIp = peer?.clientIp ?? '';
    const call: CallContext = {
      requestId,
      startedAt: performance.now(),
      logger: logger.child({ requestId, operation: req.method.name, service }),
    };
    req.contextValues.set(callKey, call);
    // Calls that need no identity (health probes every few seconds from load balancers,
    // reflection describing the public API) touch no project's data: not worth an audit row each,
    // and anyone could fill the table with them. In-process hops between services are covered by
    // the event of the call that caused them.
    const audited = METHOD_SCOPES[operation] !== 'public' && !peer?.internalCall;

    let finished = false;
    const finish = async (error: ConnectError | undefined, cause?: unknown, expected = true) => {
      if (finished) return;
      finished = true;
      const durationMs = Math.round(performance.now() - call.startedAt);
      const code = error ? codeName(error.code) : 'ok';
      if (error && !expected) call.logger.error({ err: cause, code, durationMs }, 'call failed');
      else call.logger.info({ code, durationMs, identity: call.identity?.id, projectId: call.projectId }, error ? `call refused: ${error.rawMessage}` : 'call done');
      if (!audited) return;
      try {
        await audit.record({
          service,
          operation: req.method.name,
          status: error ? 'error' : 'ok',
          code,
          requestId,
          identity: call.identity,
          projectId: call.projectId,
          format: call.format,
          sizeBytes: call.sizeBytes,
          durationMs,
          clientIp,
          error: error?.rawMessage,
        });
      } catch (auditError) {
        call.logger.error({ err: auditError }, 'audit event could not be written');
      }
    };
    const fail = async (cause: unknown): Promise<never> => {
      const aborted = callerAbort(req.signal, req.header, performance.now() - (peer?.receivedAt ?? call.startedAt));
      if (aborted) call.logger.debug({ err: cause }, 'failed after the caller cancelled or the deadline passed');
      const { connectError, expected } = toConnectError(aborted ?? cause, requestId);
      await finish(connectError, cause, expected);
      throw connectError;
    };

    try {
      await authorize(operation, req.header, call, clientIp, peer?.presetIdentity, peer?.credentials ?? {});
      const res = await next(req);
      res.header.set('x-request-id', requestId);
      if (!res.stream) {
        await finish(undefined);
        return res as UnaryResponse;
      }
      const source = res.message;
      async function* observed() {
        let failed = false;
        try {
          yield* source;
        } catch (cause) {
          failed = true;
          await fail(cause);
        } finally {
          // Also reached when the caller cancels mid-stream.
          if (!failed) {
            const aborted = callerAbort(req.signal, req.header, performance.now() - (peer?.receivedAt ?? call.startedAt));
            await finish(aborted && toConnectError(aborted, requestId).connectError);
          }
        }
      }
      return { ...res, message: observed() } as StreamResponse;
    } catch (cause) {
      return fail(cause);
    }
  };
}

export { Code, ConnectError };
