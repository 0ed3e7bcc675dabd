import { toJson } from '@bufbuild/protobuf';
import { StructSchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { MeshError, type MeshErrorCode } from './mesh-error.js';

/** Domain codes as Connect codes: the one table both directions are read from. */
export const CONNECT_CODES: Record<MeshErrorCode, Code> = {
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

const MESH_CODES = new Map<Code, MeshErrorCode>(Object.entries(CONNECT_CODES).map(([mesh, code]) => [code, mesh as MeshErrorCode]));

/**
 * The other service is down, overloaded, not deployed yet, or the connection to it was cut (these
 * calls carry no signal of the caller's, so a cancelled stream is the connection cut under it: a
 * replica gone, its load balancer closing the connection). Retrying later helps.
 */
const TRANSIENT: readonly Code[] = [Code.Unavailable, Code.Unimplemented, Code.DeadlineExceeded, Code.ResourceExhausted, Code.Aborted, Code.Canceled];

export interface DependencyErrorOptions {
  /**
   * The other service's refusals that concern the caller's request (no such signer, a revoked
   * certificate), passed on with their code, message and details. Any other refusal is the
   * mesh's own fault (a misconfigured service identity, a bug) and becomes `internal`.
   */
  keep?: readonly MeshErrorCode[];
  /** Refusals answered with another code: `{ not_found: 'unavailable' }` for a default the mesh must have. */
  as?: Partial<Record<MeshErrorCode, MeshErrorCode>>;
}

/** A Struct error detail (as @c2pa-mesh/server writes `MeshError.details`) read back, if there is one. */
function detailsOf(error: ConnectError): Record<string, unknown> {
  for (const struct of error.findDetails(StructSchema)) {
    const json = toJson(StructSchema, struct);
    if (json !== null && typeof json === 'object' && !Array.isArray(json)) return json as Record<string, unknown>;
  }
  return {};
}

/**
 * The one mapping of a failed call to another mesh service into what this service's caller
 * hears; `what` says, as a sentence, what could not be done ("the registry could not record the
 * asset"), and the other service's message follows it. A `MeshError` raised on this side is
 * passed on as it is. A dependency that cannot answer now is `unavailable`, with a `retry-after`.
 * Refusals listed in `options.keep` (or remapped by `options.as`) keep their code and details;
 * everything else is `internal`, its cause kept for the log and never returned.
 */
export function dependencyError(error: unknown, what: string, options: DependencyErrorOptions = {}): MeshError {
  if (error instanceof MeshError) return error;
  if (!(error instanceof ConnectError)) return new MeshError('internal', what, { cause: error });
  const code = MESH_CODES.get(error.code);
  const remapped = code === undefined ? undefined : options.as?.[code];
  if (remapped === undefined && TRANSIENT.includes(error.code)) {
    return new MeshError('unavailable', `${what}: ${error.rawMessage}`, {
      cause: error,
      metadata: { 'retry-after': error.metadata.get('retry-after') ?? '1' },
    });
  }
  const passed = remapped ?? (code !== undefined && options.keep?.includes(code) ? code : undefined);
  if (passed === undefined) return new MeshError('internal', what, { cause: error });
  return new MeshError(passed, `${what}: ${error.rawMessage}`, { cause: error, details: detailsOf(error) });
}

/** Runs a call to another mesh service; its failure is thrown as `dependencyError` maps it. */
export async function callDependency<T>(what: string, call: () => Promise<T>, options?: DependencyErrorOptions): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw dependencyError(error, what, options);
  }
}

const CUT: readonly Code[] = [Code.Canceled, Code.Unavailable];

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
