import { createHash, X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { CONSOLE_CSRF_HEADER, CONSOLE_PROJECT_HEADER, consoleSessionFromCookie, type ConsoleSessionCredentials, type PeerCertificate } from '@c2pa-mesh/auth';

const parsed = new WeakMap<TLSSocket, PeerCertificate | null>();

function socketOf(req: IncomingMessage | Http2ServerRequest): TLSSocket | undefined {
  // HTTP/2: the TLS socket belongs to the session; HTTP/1.1: it is the request's socket.
  const stream = (req as Http2ServerRequest).stream as { session?: { socket?: unknown } } | undefined;
  const socket = (stream?.session?.socket ?? req.socket) as TLSSocket | undefined;
  return socket && typeof socket.getPeerX509Certificate === 'function' ? socket : undefined;
}

function sanUris(cert: X509Certificate): string[] {
  const san = cert.subjectAltName;
  if (!san) return [];
  return san
    .split(/,\s*/)
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice(4));
}

/**
 * The verified client certificate of a connection, parsed once per connection. Only certificates
 * that the TLS layer verified against the mesh CA are returned; the listener closes connections
 * that present any other certificate.
 */
export function peerCertificate(req: IncomingMessage | Http2ServerRequest): PeerCertificate | undefined {
  const socket = socketOf(req);
  if (!socket || !socket.authorized) return undefined;
  const cached = parsed.get(socket);
  if (cached !== undefined) return cached ?? undefined;
  const cert = socket.getPeerX509Certificate();
  let info: PeerCertificate | null = null;
  if (cert) {
    const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
    info = {
      spkiSha256: createHash('sha256').update(spki).digest('hex'),
      sanUris: sanUris(cert),
      subject: cert.subject.replace(/\n/g, ', '),
      serialNumber: cert.serialNumber.toLowerCase(),
    };
  }
  parsed.set(socket, info);
  return info ?? undefined;
}

export function clientIp(req: IncomingMessage | Http2ServerRequest): string {
  const address = socketOf(req)?.remoteAddress ?? req.socket?.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** The web console's session cookie and CSRF header, when the request carries the cookie. */
export function consoleSessionCredentials(req: IncomingMessage | Http2ServerRequest): ConsoleSessionCredentials | undefined {
  const token = consoleSessionFromCookie(req.headers.cookie);
  if (!token) return undefined;
  const csrf = req.headers[CONSOLE_CSRF_HEADER];
  const project = req.headers[CONSOLE_PROJECT_HEADER];
  return { token, csrfToken: typeof csrf === 'string' ? csrf : undefined, ...(typeof project === 'string' && project !== '' ? { projectId: project } : {}) };
}
