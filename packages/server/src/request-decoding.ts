import { Code, ConnectError, type HandlerContext, type Interceptor, type StreamRequest } from '@connectrpc/connect';
import { invalidArgument } from '@c2pa-mesh/errors';
import { callKey } from './context.js';

/**
 * A request message that does not decode is the caller's fault, but connect-es (2.x) reports its
 * own protobuf decoding failure ("parse binary: premature EOF") as `internal`, the code it also
 * uses when a client cannot decode a server's answer. Two places make it `invalid_argument`:
 *
 * - `requestDecodingGate` (the router's request gate, run before the body is read) for messages
 *   decoded before any interceptor runs: every unary call, and the first message of a
 *   server-streaming one. Connect aborts the call's context with the error and only then turns
 *   the error into a status, so the abort listener sees it first.
 * - `requestDecodingInterceptor` for the messages of a client stream, which are decoded while the
 *   handler reads them, inside the interceptors.
 */
const DECODING_PREFIX = 'parse binary: ';

function asInvalidArgument(error: ConnectError): void {
  const detail = error.rawMessage.startsWith(DECODING_PREFIX) ? error.rawMessage.slice(DECODING_PREFIX.length) : error.rawMessage;
  const message = `the request message is not valid protobuf: ${detail}`;
  // Mutated in place: the protocol layer holds this very object and writes its code and message.
  Object.assign(error, { code: Code.InvalidArgument, rawMessage: message, message: `[invalid_argument] ${message}` });
}

export function requestDecodingGate(context: HandlerContext): void {
  context.signal.addEventListener(
    'abort',
    () => {
      const reason: unknown = context.signal.reason;
      // Once an interceptor ran, the message was decoded: later errors are mapped by the mesh.
      if (context.values.get(callKey) !== undefined) return;
      if (reason instanceof ConnectError && reason.code === Code.Internal && !reason.isWireError) asInvalidArgument(reason);
    },
    { once: true },
  );
}

async function* decodedMessages<I>(messages: AsyncIterable<I>): AsyncIterable<I> {
  try {
    yield* messages;
  } catch (error) {
    if (error instanceof ConnectError && error.code === Code.Internal && error.rawMessage.startsWith(DECODING_PREFIX)) asInvalidArgument(error);
    throw error;
  }
}

/**
 * The path of the first string in `value` that holds U+0000, which no PostgreSQL text column can
 * store: left to the database, it fails the query and the call with `internal`.
 */
function nulCharacterAt(value: unknown, path: string, depth: number): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (depth > 16 || typeof value !== 'object' || value === null || value instanceof Uint8Array) return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (key === '$typeName') continue;
    const found = nulCharacterAt(item, Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

function refuseNulCharacters(message: unknown): void {
  const field = nulCharacterAt(message, '', 0);
  if (field !== undefined) throw invalidArgument(`${field} contains a NUL character (U+0000), which no text field may hold`, { details: { field } });
}

async function* nulCheckedMessages<I>(messages: AsyncIterable<I>): AsyncIterable<I> {
  for await (const message of messages) {
    refuseNulCharacters(message);
    yield message;
  }
}

/** Outermost: decoding failures of a client stream become invalid_argument before anyone sees them. */
export const requestDecodingInterceptor: Interceptor = (next) => async (req) => {
  if (!req.stream) return next(req);
  return next({ ...req, message: decodedMessages(req.message) } as StreamRequest);
};

/** Innermost, after authentication: refuses text with NUL characters (mapped and audited as usual). */
export const nulCharacterInterceptor: Interceptor = (next) => async (req) => {
  if (!req.stream) {
    refuseNulCharacters(req.message);
    return next(req);
  }
  return next({ ...req, message: nulCheckedMessages(req.message) } as StreamRequest);
};
