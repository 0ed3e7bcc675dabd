import type { IncomingMessage, ServerResponse } from 'node:http';
import http2, { type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { clientIp, peerCertificate, requestIdFrom, type PeerContext } from '@c2pa-mesh/server';
import type { Identity } from '@c2pa-mesh/auth';
import { invalidArgument, resourceExhausted } from '@c2pa-mesh/errors';

export type GatewayRequest = Http2ServerRequest | IncomingMessage;
export type GatewayResponse = Http2ServerResponse | ServerResponse;

/** One HTTP request to the gateway: who sent it, and how to answer it. */
export interface Exchange {
  req: GatewayRequest;
  res: GatewayResponse;
  method: string;
  /** Path without the query string. */
  path: string;
  requestId: string;
  startedAt: number;
  /** What the mesh's interceptors need to know about the caller; credentials are checked there. */
  peer: PeerContext;
  /** Headers forwarded with every RPC: the caller's credentials and origin, as it sent them. */
  forwardedHeaders: Headers;
  /** `https://host:port` as the caller addressed us, for links in responses. */
  publicBaseUrl: string;
  /**
   * Set while the gateway itself may refuse the request (a bad form, an oversized upload) for a
   * caller it has identified: such refusals never reach the interceptors, so the gateway writes
   * their audit event. Cleared once the RPC has run, which the interceptors audit.
   */
  pendingAudit?: PendingAudit;
  /** The caller's rate-limit standing as the last RPC reported it; sent with the answer. */
  rateLimit?: Record<string, string>;
}

export interface PendingAudit {
  /** Short service name and RPC method the request stands for, as the interceptors write them. */
  service: string;
  operation: string;
  identity: Identity;
  format?: string;
  sizeBytes?: number;
}

export function openExchange(req: GatewayRequest, res: GatewayResponse): Exchange {
  // The listener has already chosen the request id (and set the response header) for every path.
  const chosen = res.getHeader('x-request-id');
  const requestId = typeof chosen === 'string' ? chosen : requestIdFrom(header(req, 'x-request-id'));
  res.setHeader('x-request-id', requestId);
  const forwardedHeaders = new Headers();
  for (const name of ['authorization', 'x-api-key', 'origin']) {
    const value = header(req, name);
    if (value !== undefined) forwardedHeaders.set(name, value);
  }
  const url = new URL(req.url ?? '/', 'https://gateway');
  const host = header(req, ':authority') ?? header(req, 'host') ?? 'localhost';
  return {
    req,
    res,
    method: req.method ?? 'GET',
    path: url.pathname,
    requestId,
    startedAt: performance.now(),
    peer: { clientIp: clientIp(req), credentials: { certificate: peerCertificate(req) }, requestId },
    forwardedHeaders,
    publicBaseUrl: `https://${host}`,
  };
}

export function header(req: GatewayRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function elapsedMs(exchange: Exchange): number {
  return Math.round(performance.now() - exchange.startedAt);
}

export function sendJson(exchange: Exchange, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  send(exchange, status, payload, { 'content-type': 'application/json; charset=utf-8', ...headers });
}

export function send(exchange: Exchange, status: number, body: Uint8Array, headers: Record<string, string>): void {
  const { res } = exchange;
  if (res.headersSent) return;
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  // An HTTP/1.1 upload we did not read to its end leaves the connection unusable: close it.
  const unread = !(exchange.req as Http2ServerRequest).stream && !exchange.req.complete && !exchange.req.readableEnded;
  if (unread) res.setHeader('connection', 'close');
  res.writeHead(status, { ...exchange.rateLimit, ...headers, 'content-length': String(buffer.length), 'x-request-id': exchange.requestId, 'x-duration-ms': String(elapsedMs(exchange)) });
  res.end(buffer);
  stopUpload(exchange);
}

/**
 * When we answer before the caller finished uploading (a refusal), stop the upload instead of
 * reading the rest: over HTTP/2 with RST_STREAM NO_ERROR once the response is out (RFC 9113 §8.1
 * allows exactly this), over HTTP/1.1 with `connection: close`, on which Node closes the socket
 * after the response.
 */
function stopUpload(exchange: Exchange): void {
  const { req, res } = exchange;
  if (req.complete || req.readableEnded) return;
  const stream = (req as Http2ServerRequest).stream;
  // The stream's own 'finish' (our half sent, END_STREAM included): the compat response's
  // 'finish' only comes once the whole stream closes, which the caller's open upload prevents.
  if (stream) {
    const reset = () => {
      if (!req.complete && !stream.closed && !stream.destroyed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    };
    if (stream.writableFinished) reset();
    else stream.once('finish', reset);
  }
}

/**
 * Reads a raw request body, refusing it with resource_exhausted as soon as it passes `maxBytes`
 * (a declared Content-Length above the limit is refused before a byte is read).
 */
export async function readBody(exchange: Exchange, maxBytes: number, what: string): Promise<Uint8Array> {
  const { req } = exchange;
  const declared = Number(header(req, 'content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(what, maxBytes);
  // Listeners rather than for-await: leaving a for-await early destroys the request, and with it
  // (over HTTP/1.1) the socket the refusal has to go out on.
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (error?: unknown) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', done);
      req.off('aborted', onAborted);
      if (error) {
        req.pause();
        reject(error);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) done(tooLarge(what, maxBytes));
      else chunks.push(chunk);
    };
    const onEnd = () => done();
    const onAborted = () => done(invalidArgument('the upload was aborted before it finished'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', done);
    req.on('aborted', onAborted);
  });
}

export function tooLarge(what: string, maxBytes: number) {
  return resourceExhausted(`${what} is larger than this key's limit of ${formatBytes(maxBytes)}`, { details: { limitBytes: maxBytes } });
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}
