import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { StructSchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { CONNECT_CODES, isMeshError } from '@c2pa-mesh/errors';

/** Connect's code names as they appear on the wire and in audit events ("invalid_argument"). */
export function codeName(code: Code): string {
  return Code[code].replace(/[A-Z]/g, (c, i) => (i === 0 ? c.toLowerCase() : `_${c.toLowerCase()}`));
}

/**
 * `MeshError.details` as the caller receives them: one `google.protobuf.Struct` error detail
 * (`ConnectError.findDetails(StructSchema)`), none when there are no details.
 */
function structDetails(details: Record<string, unknown>): ConstructorParameters<typeof ConnectError>[3] {
  if (Object.keys(details).length === 0) return [];
  try {
    return [{ desc: StructSchema, value: fromJson(StructSchema, JSON.parse(JSON.stringify(details)) as JsonObject) }];
  } catch {
    return [];
  }
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
    const code = CONNECT_CODES[error.code];
    const expected = error.code !== 'internal';
    const message = expected ? error.message : `internal error (request id ${requestId})`;
    return { connectError: new ConnectError(message, code, metadata, expected ? structDetails(error.details) : []), expected };
  }
  if (error instanceof ConnectError) {
    // Raised by Connect itself (bad message encoding, deadline, cancel) or by a client we called.
    for (const [k, v] of error.metadata) metadata.set(k, v);
    metadata.set('x-request-id', requestId);
    if (error.code === Code.Internal || error.code === Code.Unknown) {
      return { connectError: new ConnectError(`internal error (request id ${requestId})`, Code.Internal, metadata), expected: false };
    }
    const passed = new ConnectError(error.rawMessage, error.code, metadata);
    passed.details.push(...error.details);
    return { connectError: passed, expected: true };
  }
  return { connectError: new ConnectError(`internal error (request id ${requestId})`, Code.Internal, metadata), expected: false };
}

const GRPC_TIMEOUT_UNITS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** The time limit the caller declared (`grpc-timeout`, `connect-timeout-ms`), in ms. */
function declaredTimeoutMs(header: Headers): number | undefined {
  const grpc = /^(\d{1,8})([HMSmun])$/.exec(header.get('grpc-timeout') ?? '');
  if (grpc) return Number(grpc[1]) * GRPC_TIMEOUT_UNITS[grpc[2]];
  const connect = /^\d{1,10}$/.exec(header.get('connect-timeout-ms') ?? '');
  return connect ? Number(connect[0]) : undefined;
}

/**
 * Why a call ended early on the caller's side, when it did: its deadline (`grpc-timeout`,
 * `connect-timeout-ms`) passed, or the caller cancelled or went away. Whatever the handler threw
 * after that is a consequence, not a server failure, and is recorded as `deadline_exceeded` or
 * `canceled` so that usage statistics and logs do not count it as `internal`. A client whose own
 * timer fires resets the stream (`canceled`) about when the server's deadline passes, so a call
 * that ran for its whole declared time counts as `deadline_exceeded` either way (with a little
 slack: the client's timer starts before its request reaches the server).
 */
export function callerAbort(signal: AbortSignal, header: Headers, elapsedMs: number): ConnectError | undefined {
  if (!signal.aborted) return undefined;
  const reason: unknown = signal.reason;
  const timeoutMs = declaredTimeoutMs(header);
  if ((reason instanceof ConnectError && reason.code === Code.DeadlineExceeded) || (timeoutMs !== undefined && elapsedMs >= timeoutMs - Math.max(100, timeoutMs * 0.1))) {
    return new ConnectError('the call did not finish before its deadline', Code.DeadlineExceeded);
  }
  return new ConnectError('the caller cancelled the call', Code.Canceled);
}
