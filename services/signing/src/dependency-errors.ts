import { Code, ConnectError } from '@connectrpc/connect';
import { MeshError, isMeshError, type MeshErrorCode } from '@c2pa-mesh/errors';

/**
 * A failed call to another mesh service, as the signing caller should see it. The other service's
 * refusals that concern the request (a revoked or missing certificate) keep their code; a service
 * that is down, overloaded or not there yet is `unavailable`; anything else is `internal` with
 * the cause kept for the log.
 */
export function dependencyError(error: unknown, what: string, overrides: Partial<Record<Code, MeshErrorCode>> = {}): MeshError {
  if (isMeshError(error)) return error;
  if (!(error instanceof ConnectError)) return new MeshError('internal', `${what} failed`, { cause: error });
  const mapped = overrides[error.code] ?? DEFAULT_CODES[error.code] ?? 'internal';
  return new MeshError(mapped, `${what}: ${error.rawMessage}`, { cause: error });
}

const DEFAULT_CODES: Partial<Record<Code, MeshErrorCode>> = {
  [Code.FailedPrecondition]: 'failed_precondition',
  [Code.PermissionDenied]: 'permission_denied',
  [Code.NotFound]: 'not_found',
  [Code.Unavailable]: 'unavailable',
  [Code.Unimplemented]: 'unavailable',
  [Code.ResourceExhausted]: 'resource_exhausted',
  [Code.DeadlineExceeded]: 'unavailable',
  [Code.Canceled]: 'unavailable',
};

const CUT = [Code.Canceled, Code.Unavailable];

/**
 * Runs `call` once more when the connection to the other service was refused or cut under it (a
 * replica gone, its load balancer closing the connection): the first try may have been done with
 * only its answer lost. Only for calls the other service makes idempotent (RegisterAsset, by the
 * request id and the signed bytes).
 */
export async function retryOnceWhenCut<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ConnectError && CUT.includes(error.code)) return call();
    throw error;
  }
}
