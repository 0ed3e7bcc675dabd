import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { newRequestId, requestIdFrom } from './interceptors.js';
import { listen } from './listen.js';
import { withHttpSpan } from './tracing-http.js';

/** A handler on the plain-HTTP listener that relying parties reach without credentials. */
export interface RelyingPartyRoute {
  method: 'GET' | 'POST';
  /** Exact path, or a prefix ending in `/` (e.g. `/ocsp/` for GET requests in the URL). */
  path: string;
  /** Largest request body read; larger bodies get 413 before any work. */
  maxBodyBytes?: number;
  handle(request: RelyingPartyRequest): Promise<RelyingPartyResponse> | RelyingPartyResponse;
}

export interface RelyingPartyRequest {
  /** This request's id, also sent as `x-request-id` and in the request's log line. */
  requestId: string;
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Uint8Array;
  clientIp: string;
}

export interface RelyingPartyResponse {
  status: number;
  contentType: string;
  body: Uint8Array | string;
  headers?: Record<string, string>;
}

export interface RelyingPartyListener {
  url: string;
  port: number;
  close(graceMs: number): Promise<void>;
}

const DEFAULT_MAX_BODY = 64 * 1024;

/** Longest path written to the log: OCSP GET paths are a few hundred characters; a hostile URL may be 16 KiB. */
const MAX_LOGGED_PATH = 512;

function loggedPath(path: string): string {
  return path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path;
}

function text(status: number, message: string): RelyingPartyResponse {
  return { status, contentType: 'text/plain; charset=utf-8', body: `${message}\n` };
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<Uint8Array | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) return 'too-large';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return 'too-large';
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The plain-HTTP listener for relying parties: OCSP, time-stamping, CA certificates, health.
 * Small and defensive: bounded bodies, header and request timeouts, idle connections dropped —
 * a client that connects and sends nothing costs one socket until the header timeout.
 */
export async function startRelyingPartyListener(options: {
  host: string;
  port: number;
  routes: RelyingPartyRoute[];
  logger: Logger;
}): Promise<RelyingPartyListener> {
  const { routes, logger } = options;

  function match(method: string, path: string): RelyingPartyRoute | undefined {
    return routes.find((r) => r.method === method && (r.path === path || (r.path.endsWith('/') && path.startsWith(r.path) && path.length > r.path.length)));
  }

  const server = http.createServer(withHttpSpan('pki', async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const startedAt = performance.now();
    // As on the TLS listener: a caller's own valid id is kept so its logs and ours line up.
    const requestId = requestIdFrom(req.headers['x-request-id'] as string | undefined);
    res.setHeader('x-request-id', requestId);
    const url = new URL(req.url ?? '/', 'http://relying-party');
    const method = req.method ?? 'GET';
    // One JSON line per request, written when the response is done or the client went away.
    res.once('close', () => {
      logger.info(
        {
          requestId,
          method,
          path: loggedPath(url.pathname),
          status: res.statusCode,
          durationMs: Math.round(performance.now() - startedAt),
          clientIp: req.socket.remoteAddress,
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'relying-party request',
      );
    });
    let response: RelyingPartyResponse;
    try {
      const route = match(method, url.pathname);
      if (!route) {
        const other = routes.some((r) => r.path === url.pathname || (r.path.endsWith('/') && url.pathname.startsWith(r.path)));
        response = other ? text(405, `method ${method} not allowed on ${url.pathname}`) : text(404, `no such endpoint: ${url.pathname}`);
      } else {
        const body = method === 'POST' ? await readBody(req, route.maxBodyBytes ?? DEFAULT_MAX_BODY) : new Uint8Array();
        if (body === 'too-large') {
          response = text(413, `request body larger than ${route.maxBodyBytes ?? DEFAULT_MAX_BODY} bytes`);
        } else {
          response = await route.handle({
            method,
            path: url.pathname,
            query: url.searchParams,
            headers: req.headers,
            body,
            clientIp: req.socket.remoteAddress ?? '',
            requestId,
          });
        }
      }
    } catch (err) {
      logger.error({ err, requestId, method, path: loggedPath(url.pathname) }, 'relying-party request failed');
      response = text(500, 'internal error');
    }
    const body = typeof response.body === 'string' ? Buffer.from(response.body, 'utf8') : Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength);
    res.writeHead(response.status, { 'content-type': response.contentType, 'content-length': body.length, ...response.headers, 'x-request-id': requestId });
    res.end(body);
  }));
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    // No request was parsed (malformed, headers too large or too slow): no method or path to log.
    const requestId = newRequestId();
    logger.info({ requestId, status: 400, code: err.code, clientIp: (socket as import('node:net').Socket).remoteAddress }, 'relying-party request refused');
    socket.end(`HTTP/1.1 400 Bad Request\r\nconnection: close\r\nx-request-id: ${requestId}\r\n\r\n`);
  });

  const { port, hostForUrl } = await listen(server, options.host, options.port);
  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
    },
  };
}
