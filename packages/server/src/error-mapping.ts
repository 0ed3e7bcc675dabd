import { Code, ConnectError } from '@connectrpc/connect';
import { type MeshErrorCode, isMeshError } from '@c2pa-mesh/errors';

const CODES: Record<MeshErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  failed_precondition: Code.FailedPrecondition,
  unauthenticated: Code.Unauthenticated,
  permission_denied: Code.PermissionDenied,
  resource_exhausted: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  deadline_exceeded: Code.DeadlineExceeded,
  unimplemented: Code.Unimplemented,
  internal: Code.Internal,
};

/** Connect's code names as they appear on the wire and in audit events ("invalid_argument"). */
export function codeName(code: Code): string {
  return Code[code].replace(/[A-Z]/g, (c, i) => (i === 0 ? c.toLowerCase() : `_${c.toLowerCase()}`));
}

/**
 * The one place where domain errors become Connect errors. Expected failures keep their message;
 * anything else becomes `internal` with a message that names only the request id — the cause is
 * logged by the caller of this function, never returned.
 */
export function toConnectError(error: unknown, requestId: string): { connectError: ConnectError; expected: boolean } {
  const metadata = new Headers({ 'x-request-id': requestId });
  if (isMeshError(error)) {
    for (const [k, v] of Object.entries(error.metadata)) metadata.set(k, v);
    const code = CODES[error.code];
    const expected = error.code !== 'internal';
    const message = expected ? error.message : `internal error (request id ${requestId})`;
    return { connectError: new ConnectError(message, code, metadata), expected };
  }
  if (error instanceof ConnectError) {
    // Raised by Connect itself (bad message encoding, deadline, cancel) or by a client we called.
    for (const [k, v] of error.metadata) metadata.set(k, v);
    metadata.set('x-request-id', requestId);
    if (error.code === Code.Internal || error.code === Code.Unknown) {
      return { connectError: new ConnectError(`internal error (request id ${requestId})`, Code.Internal, metadata), expected: false };
    }
    return { connectError: new ConnectError(error.rawMessage, error.code, metadata), expected: true };
  }
  return { connectError: new ConnectError(`internal error (request id ${requestId})`, Code.Internal, metadata), expected: false };
}
