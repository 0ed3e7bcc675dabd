import { Code, ConnectError } from '@connectrpc/connect';
import { isMeshError, type MeshErrorCode } from '@c2pa-mesh/errors';

/** What the gateway tells an HTTP caller about a failed call. */
export interface HttpFailure {
  status: number;
  /** Connect code name of the failure (`invalid_argument`, `resource_exhausted`, ...). */
  code: string;
  /** For the caller: the service's own message, or a generic one for internal errors. */
  message: string;
  /** Seconds, when the failure was a rate limit. */
  retryAfter?: string;
  /** The request field at fault, when the failure names one. */
  field?: string;
  /** True when the failure is not the caller's doing and the cause must be logged. */
  unexpected: boolean;
}

/** Which kind of gateway call failed: lookups that find nothing mean something else on verify. */
export type GatewayOperation = 'sign' | 'verify' | 'lookup' | 'other';

const CONNECT_TO_MESH: Partial<Record<Code, MeshErrorCode>> = {
  [Code.InvalidArgument]: 'invalid_argument',
  [Code.NotFound]: 'not_found',
  [Code.AlreadyExists]: 'already_exists',
  [Code.FailedPrecondition]: 'failed_precondition',
  [Code.Unauthenticated]: 'unauthenticated',
  [Code.PermissionDenied]: 'permission_denied',
  [Code.ResourceExhausted]: 'resource_exhausted',
  [Code.Unavailable]: 'unavailable',
  [Code.DeadlineExceeded]: 'deadline_exceeded',
  [Code.Unimplemented]: 'unimplemented',
};

function classify(error: unknown): { code: MeshErrorCode | 'internal'; message: string; retryAfter?: string; field?: string } {
  if (isMeshError(error)) {
    const field = typeof error.details.field === 'string' ? error.details.field : undefined;
    return { code: error.code, message: error.message, retryAfter: error.metadata['retry-after'], field };
  }
  if (error instanceof ConnectError) {
    return { code: CONNECT_TO_MESH[error.code] ?? 'internal', message: error.rawMessage, retryAfter: error.metadata.get('retry-after') ?? undefined };
  }
  return { code: 'internal', message: '' };
}

/**
 * The one place where a failed call becomes an HTTP status, in the shape the hosted signing APIs
 * answered with: bad input 400, no or bad credential 401, wrong scope 403, a rate limit 429 with
 * Retry-After (a size limit, which carries no retry time, 413), a backend service down 502, and
 * anything else 500 with a message that names only the request id.
 */
export function httpFailureFor(error: unknown, operation: GatewayOperation, requestId: string): HttpFailure {
  const { code, message, retryAfter, field } = classify(error);
  const expected = (status: number): HttpFailure => ({ status, code, message, retryAfter, field, unexpected: false });
  switch (code) {
    case 'invalid_argument':
    case 'failed_precondition':
      return expected(400);
    case 'not_found':
      // "No C2PA data" and unknown hashes are the caller's input on verify; elsewhere a name
      // the caller gave (a signer, a project) does not exist.
      return expected(operation === 'verify' ? 400 : 404);
    case 'already_exists':
      return expected(409);
    case 'unauthenticated':
      return expected(401);
    case 'permission_denied':
      return expected(403);
    case 'resource_exhausted':
      return retryAfter !== undefined ? expected(429) : expected(413);
    case 'unavailable':
      return { status: 502, code, message: `a backend service is unavailable, retry shortly (request id ${requestId})`, retryAfter, unexpected: true };
    case 'deadline_exceeded':
      return { status: 504, code, message: `the request took too long (request id ${requestId})`, unexpected: true };
    case 'unimplemented':
      return expected(501);
    default:
      return { status: 500, code: 'internal', message: `internal error (request id ${requestId})`, unexpected: true };
  }
}
