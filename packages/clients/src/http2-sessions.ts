import http2 from 'node:http2';
import { Http2SessionManager } from '@connectrpc/connect-node';

/** What connect-node's transports take as `sessionManager` (its NodeHttp2ClientSessionManager). */
export interface SessionManager {
  authority: string;
  request(method: string, path: string, headers: http2.OutgoingHttpHeaders, options: Omit<http2.ClientSessionRequestOptions, 'signal'>): Promise<http2.ClientHttp2Stream>;
  notifyResponseByteRead(stream: http2.ClientHttp2Stream): void;
}

/**
 * HTTP/2 receive windows of a client connection: with Node's 64 KiB defaults a large answer
 * (a signed asset coming back from SignStream) waits for a window update every 64 KiB, which
 * under load is a scheduling delay each time. The server's listener widens its own the same way.
 */
const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
const CONNECTION_WINDOW_BYTES = 16 * 1024 * 1024;

/**
 * Node's HTTP/2 client charges a request body to its session's memory (`maxSessionMemory`) as it
 * is handed over and takes the charge back only as it is sent: the unsent rest of a body whose
 * stream is reset (the call was cancelled, or the server answered before reading it all) stays
 * charged for as long as the connection lives. A few cancelled uploads of large assets, and every
 * later call on that connection fails with ENHANCE_YOUR_CALM on the client's own side.
 *
 * This manager keeps the mesh's calls off such a connection: after a stream closes with its request
 * not completely sent, new calls go to a fresh connection, and the old one is closed as soon as
 * the calls still on it have finished. Its connections have the widened windows above. (Written here: connect-node's Http2SessionManager keeps
 * one connection until the server sends GOAWAY, and no library works around this Node behaviour.)
 */
export function createResettingSessionManager(url: string, nodeOptions: http2.SecureClientSessionOptions): SessionManager {
  // Room for the calls still running on a connection that is being retired.
  const options: http2.SecureClientSessionOptions = { maxSessionMemory: 64, ...nodeOptions, settings: { initialWindowSize: STREAM_WINDOW_BYTES, ...nodeOptions.settings } };
  const widened = new WeakSet<http2.Http2Session>();
  let current = new Http2SessionManager(url, {}, options);
  const open = new Map<Http2SessionManager, number>();
  const owner = new WeakMap<http2.ClientHttp2Stream, Http2SessionManager>();

  function settle(manager: Http2SessionManager, streamLeftUnsent: boolean): void {
    const remaining = (open.get(manager) ?? 1) - 1;
    open.set(manager, remaining);
    if (streamLeftUnsent && manager === current) current = new Http2SessionManager(url, {}, options);
    if (manager !== current && remaining === 0) {
      open.delete(manager);
      manager.abort();
    }
  }

  return {
    get authority() {
      return current.authority;
    },
    async request(method, path, headers, requestOptions) {
      const manager = current;
      open.set(manager, (open.get(manager) ?? 0) + 1);
      let stream: http2.ClientHttp2Stream;
      try {
        stream = await manager.request(method, path, headers, requestOptions);
      } catch (error) {
        settle(manager, false);
        throw error;
      }
      owner.set(stream, manager);
      const session = stream.session;
      if (session !== undefined && !widened.has(session)) {
        widened.add(session);
        session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
      }
      stream.once('close', () => settle(manager, !stream.writableFinished));
      return stream;
    },
    notifyResponseByteRead(stream) {
      (owner.get(stream) ?? current).notifyResponseByteRead(stream);
    },
  };
}
