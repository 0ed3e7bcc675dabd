/**
 * Domain errors shared by every package and service.
 *
 * Packages throw `MeshError` with a code from the union below; the RPC layer maps the code to a
 * Connect code in exactly one place (`toConnectError` in @c2pa-mesh/server, by `CONNECT_CODES`). The message is what
 * the caller sees and must be something a person can act on; `cause` is logged, never returned.
 */
export type MeshErrorCode =
  | 'invalid_argument'
  | 'not_found'
  | 'already_exists'
  | 'failed_precondition'
  | 'unauthenticated'
  | 'permission_denied'
  | 'resource_exhausted'
  | 'unavailable'
  | 'deadline_exceeded'
  | 'unimplemented'
  | 'internal';

export interface MeshErrorOptions {
  cause?: unknown;
  /** Extra response metadata, e.g. `{ 'retry-after': '12' }` for rate limits. */
  metadata?: Record<string, string>;
  /** Machine-readable detail for the caller, e.g. the offending field or status codes. */
  details?: Record<string, unknown>;
}

export class MeshError extends Error {
  readonly code: MeshErrorCode;
  readonly metadata: Record<string, string>;
  readonly details: Record<string, unknown>;

  constructor(code: MeshErrorCode, message: string, options: MeshErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeshError';
    this.code = code;
    this.metadata = options.metadata ?? {};
    this.details = options.details ?? {};
  }
}

export const invalidArgument = (message: string, options?: MeshErrorOptions) =>
  new MeshError('invalid_argument', message, options);
export const notFound = (message: string, options?: MeshErrorOptions) =>
  new MeshError('not_found', message, options);
export const alreadyExists = (message: string, options?: MeshErrorOptions) =>
  new MeshError('already_exists', message, options);
export const failedPrecondition = (message: string, options?: MeshErrorOptions) =>
  new MeshError('failed_precondition', message, options);
export const permissionDenied = (message: string, options?: MeshErrorOptions) =>
  new MeshError('permission_denied', message, options);
export const unauthenticated = (message: string, options?: MeshErrorOptions) =>
  new MeshError('unauthenticated', message, options);
export const resourceExhausted = (message: string, options?: MeshErrorOptions) =>
  new MeshError('resource_exhausted', message, options);
export const unavailable = (message: string, options?: MeshErrorOptions) =>
  new MeshError('unavailable', message, options);

export function isMeshError(error: unknown): error is MeshError {
  return error instanceof MeshError;
}
