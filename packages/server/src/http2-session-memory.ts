import type http2 from 'node:http2';
import type { UniversalServerResponse } from '@connectrpc/connect/protocol';
import type { Logger } from 'pino';

/**
 * Node's HTTP/2 (up to at least Node 20) charges data handed to a stream against its session's
 * memory (`maxSessionMemory`) and takes the charge back only as the data is sent. Data still
 * waiting when the stream is reset (the caller cancelled, or stopped reading a large answer) is
 * never taken back: once such leftovers add up to `maxSessionMemory`, every new stream on that
 * connection is refused with ENHANCE_YOUR_CALM, Health included, for as long as it lives.
 *
 * The listener therefore (1) hands a response to Node in slices, waiting for each to be sent
 * before the next (Connect's adapter waits for 'drain' between chunks), so a reset stream leaves
 * at most one slice behind, and (2) counts those leftovers per connection and, before they could
 * reach the limit, asks the client to move to a new connection with a graceful GOAWAY: calls in
 * flight finish, and clients (Connect, gRPC, browsers) open the next connection themselves.
 */

/** Largest piece of a response handed to Node at once. */
export const RESPONSE_SLICE_BYTES = 128 * 1024;
/** `maxSessionMemory` of the listener, in MB as Node counts it. */
export const SESSION_MEMORY_MB = 32;
/** Leftover slices a connection may collect before it is asked to close (half the session memory). */
const LEFTOVER_SLICES_BEFORE_GOAWAY = Math.floor((SESSION_MEMORY_MB * 1024 * 1024) / 2 / RESPONSE_SLICE_BYTES);

async function* sliced(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    if (chunk.byteLength <= RESPONSE_SLICE_BYTES) yield chunk;
    else for (let at = 0; at < chunk.byteLength; at += RESPONSE_SLICE_BYTES) yield chunk.subarray(at, at + RESPONSE_SLICE_BYTES);
  }
}

/** The response with its body in slices of at most RESPONSE_SLICE_BYTES. */
export function slicedResponse(response: UniversalServerResponse): UniversalServerResponse {
  return response.body === undefined ? response : { ...response, body: sliced(response.body) };
}

const leftovers = new WeakMap<http2.Http2Session, number>();

/**
 * Watches one HTTP/2 request: a stream that closes after its answer began but before all of it
 * was sent may leave a slice charged to the session for good (see above).
 */
export function watchUnsentResponse(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, logger: Logger): void {
  const stream = req.stream as http2.ServerHttp2Stream | undefined;
  const session = stream?.session;
  if (stream === undefined || session === undefined) return;
  res.once('close', () => {
    if (!res.headersSent || stream.writableFinished) return;
    const count = (leftovers.get(session) ?? 0) + 1;
    leftovers.set(session, count);
    if (count === LEFTOVER_SLICES_BEFORE_GOAWAY && !session.closed) {
      logger.debug({ resetStreams: count }, 'connection asked to move on (GOAWAY): many streams were reset with answers unsent');
      session.close();
    }
  });
}
