import http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { Code, ConnectError, createConnectRouter, createContextValues, type ConnectRouter, type Interceptor } from '@connectrpc/connect';
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest, universalResponseToNodeResponse } from '@connectrpc/connect-node';
import type { Logger } from 'pino';
import { peerKey } from './context.js';
import { requestIdFrom } from './interceptors.js';
import { clientIp, consoleSessionCredentials, peerCertificate } from './peer.js';
import { listen } from './listen.js';
import { SESSION_MEMORY_MB, slicedResponse, watchUnsentResponse } from './http2-session-memory.js';
import { unaryRequestBody } from './request-body.js';
import { nulCharacterInterceptor, requestDecodingGate, requestDecodingInterceptor } from './request-decoding.js';

export interface TlsListenerOptions {
  host: string;
  port: number;
  /** PEM: the listener's certificate (+ chain) and key, and the CA client certificates must chain to. */
  certificatePem: string;
  privateKeyPem: string;
  clientCaPem: string;
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  logger: Logger;
  /** Largest accepted request message; Connect refuses bigger ones with resource_exhausted. */
  readMaxBytes?: number;
  /**
   * A connection with no request in flight is closed after this long without traffic, including
   * one that completed its TLS handshake and never sent a request. Default 60 s.
   */
  idleTimeoutMs?: number;
  /** Optional plain-HTTP handler for paths that are not RPCs (the drop-in REST gateway). */
  fallback?: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;
  /**
   * Unary request bodies read as Connect's Node adapter reads them (its generic body stream)
   * instead of by `unaryRequestBody`: only for bench/request-body.ts, which compares the two.
   */
  connectUnaryBody?: boolean;
}

export interface RunningListener {
  url: string;
  port: number;
  /** Stop accepting, let in-flight calls finish for up to `graceMs`, then cut the rest. */
  close(graceMs: number): Promise<void>;
}

/** Requests in flight on a TLS connection, kept on the socket (HTTP/2: reached through the session's socket proxy). */
const IN_FLIGHT = Symbol('requests in flight');
type CountedSocket = { [IN_FLIGHT]?: { requests: number; lastActiveAt: number } };

/** HTTP/2 receive window per stream and per connection (see the server's settings below). */
const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
const CONNECTION_WINDOW_BYTES = 16 * 1024 * 1024;

/**
 * Connect's Node adapter (`connectNodeAdapter`), with one change: unary requests reach the handler
 * through `unaryRequestBody` instead of Connect's generic body stream (see there).
 */
function connectHandler(options: TlsListenerOptions) {
  const router = createConnectRouter({
    // Decoding failures of the caller's messages are invalid_argument, not internal (see there).
    interceptors: [requestDecodingInterceptor, ...options.interceptors, nulCharacterInterceptor],
    requestGate: requestDecodingGate,
    readMaxBytes: options.readMaxBytes,
    acceptCompression: [compressionGzip, compressionBrotli],
    // Responses are not compressed: they are mostly media, which is compressed already, and gzip
    // of a signed asset costs ~19 ms of CPU per MiB (5 s and more for a 100 MiB SignStream) to
    // save nothing. Compressed requests are still accepted.
    compressMinBytes: Number.MAX_SAFE_INTEGER,
  });
  options.routes(router);
  const handlers = new Map(router.handlers.map((h) => [h.requestPath, h]));

  return (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    const handler = handlers.get(req.url.split('?', 2)[0]);
    if (handler === undefined) {
      if (options.fallback) options.fallback(req, res);
      else res.writeHead(404).end();
      return;
    }
    const contextValues = createContextValues();
    contextValues.set(peerKey, {
      receivedAt: performance.now(),
      requestId: (req as { meshRequestId?: string }).meshRequestId ?? requestIdFrom(undefined),
      clientIp: clientIp(req),
      credentials: { certificate: peerCertificate(req), consoleSession: consoleSessionCredentials(req) },
      decodedForThisCall: true,
    });
    const request = universalRequestFromNodeRequest(req, res, undefined, contextValues);
    if (handler.method.methodKind === 'unary' && options.connectUnaryBody !== true) request.body = unaryRequestBody(req);
    handler(request)
      .then((response) => universalResponseToNodeResponse(slicedResponse(response), res))
      .catch((reason: unknown) => {
        // Aborted: the caller went away while the answer was written; nobody is left to tell.
        if (ConnectError.from(reason).code === Code.Aborted) return;
        options.logger.error({ err: reason, procedure: handler.requestPath }, 'the response could not be written');
      });
  };
}

/**
 * One HTTPS listener for Connect, gRPC and gRPC-Web, JSON and binary, HTTP/2 and HTTP/1.1.
 * Client certificates are requested but optional (API-key callers have none); a certificate that
 * does not verify against the mesh CA closes the connection during the handshake's aftermath.
 */
export async function startTlsListener(options: TlsListenerOptions): Promise<RunningListener> {
  const handler = connectHandler(options);

  const server = http2.createSecureServer(
    {
      cert: options.certificatePem,
      key: options.privateKeyPem,
      ca: options.clientCaPem,
      requestCert: true,
      rejectUnauthorized: false,
      allowHTTP1: true,
      minVersion: 'TLSv1.2',
      // HTTP/2 flow control: the default 64 KiB windows make an upload wait for the server to
      // read and acknowledge every 64 KiB, which costs a third of the time of a 100 MB
      // SignStream. Larger windows let the client keep sending while the handler works; what
      // one connection can have in flight unread stays bounded by the connection window.
      settings: { initialWindowSize: STREAM_WINDOW_BYTES },
      // Explicit, because the listener manages it: see http2-session-memory.ts.
      maxSessionMemory: SESSION_MEMORY_MB,
    },
    (req, res) => {
      // Every response carries the request id, including ones Connect answers before any
      // interceptor runs (unknown path, undecodable message).
      const requestId = requestIdFrom(req.headers['x-request-id'] as string | undefined);
      (req as unknown as { meshRequestId: string }).meshRequestId = requestId;
      res.setHeader('x-request-id', requestId);
      // Counted so that the idle timeout never cuts a call that is quiet while it works.
      // The counter object is read once, while the HTTP/2 stream still reaches its session's socket.
      const inFlight = (req.socket as unknown as CountedSocket)[IN_FLIGHT];
      if (inFlight) {
        inFlight.requests++;
        inFlight.lastActiveAt = performance.now();
        res.once('close', () => {
          inFlight.requests--;
          inFlight.lastActiveAt = performance.now();
        });
      }
      if (req.httpVersionMajor === 2) watchUnsentResponse(req, res, options.logger);
      handler(req, res);
    },
  );

  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  server.on('secureConnection', (socket: TLSSocket) => {
    const presented = socket.getPeerX509Certificate();
    if (presented && !socket.authorized) {
      options.logger.warn({ clientIp: socket.remoteAddress, reason: socket.authorizationError }, 'client certificate refused');
      socket.destroy();
      return;
    }
    // Node closes neither an HTTP/2 connection nor a TLS connection that never sent a request:
    // left alone, each holds a socket and its TLS state for good.
    const inFlight = { requests: 0, lastActiveAt: performance.now() };
    (socket as unknown as CountedSocket)[IN_FLIGHT] = inFlight;
    socket.setTimeout(idleTimeoutMs);
    socket.on('timeout', () => {
      // An HTTP/2 session reads its socket natively, so calls do not restart the socket's timer:
      // it runs out on a busy connection too, and once run out it is not started again. Measured
      // from the last call instead, and started again until the connection has been quiet for the
      // whole timeout (closing a busy connection cuts the calls its client is sending).
      const quietMs = performance.now() - inFlight.lastActiveAt;
      if (inFlight.requests > 0 || quietMs < idleTimeoutMs) {
        socket.setTimeout(inFlight.requests > 0 ? idleTimeoutMs : Math.max(1, Math.ceil(idleTimeoutMs - quietMs)));
        return;
      }
      options.logger.debug({ clientIp: socket.remoteAddress, idleTimeoutMs }, 'idle connection closed');
      socket.destroy();
    });
  });
  server.on('tlsClientError', (err) => options.logger.debug({ err }, 'TLS handshake failed'));

  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
    session.on('close', () => sessions.delete(session));
  });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket: import('node:net').Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const { port, hostForUrl } = await listen(server, options.host, options.port);

  return {
    url: `https://${hostForUrl}:${port}`,
    port,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // GOAWAY lets HTTP/2 clients finish their streams and open no new ones.
      for (const session of sessions) session.close();
      const timer = setTimeout(() => {
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      timer.unref();
      // HTTP/1.1 keep-alive connections with no request in flight close now.
      (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      await closed;
      clearTimeout(timer);
    },
  };
}
