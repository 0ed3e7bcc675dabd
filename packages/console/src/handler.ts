import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import path from 'node:path';
import {
  CONSOLE_CSRF_HEADER,
  CONSOLE_SESSION_COOKIE,
  consoleCsrfMatches,
  consoleCsrfToken,
  consoleSessionFromCookie,
  hashConsoleSessionToken,
  newConsoleSessionToken,
  type IdentityResolver,
} from '@c2pa-mesh/auth';
import { peerCertificate } from '@c2pa-mesh/server';
import { type Database, deleteConsoleSession, deleteExpiredConsoleSessions, findConsoleSession, insertConsoleSession, latestAuditChange } from '@c2pa-mesh/storage';
import type { Logger } from 'pino';
import { SECURITY_HEADERS } from './headers.js';

export const CONSOLE_PATH = '/console';
const SESSION_API = `${CONSOLE_PATH}/api/session`;
const CHANGES_API = `${CONSOLE_PATH}/api/changes`;
/** A console session lasts a working day; then the person signs in again. */
const SESSION_LIFETIME_MS = 8 * 60 * 60 * 1000;

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

export interface ConsoleHandlerOptions {
  db: Database;
  resolver: IdentityResolver;
  /** The built console (Vite's output). */
  distDir: string;
  logger: Logger;
}

export interface ConsoleHandler {
  /** True for the paths the console answers (`/console` and below). */
  handles(req: Req): boolean;
  handle(req: Req, res: Res): void;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

function send(res: Res, status: number, headers: Record<string, string>, body: string | Buffer) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.statusCode = status;
  (res as ServerResponse).end(body);
}

function sendJson(res: Res, status: number, body: unknown, headers: Record<string, string> = {}) {
  send(res, status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }, JSON.stringify(body));
}

function sessionCookie(token: string, maxAgeSeconds: number): string {
  return `${CONSOLE_SESSION_COOKIE}=${token}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}

/**
 * Sign-in is a state change made by the page itself: a cross-site page must not be able to
 * make a browser that holds the admin certificate open a session (login CSRF). Browsers send
 * Origin on every POST and Sec-Fetch-Site on every request; both must say "this origin".
 */
function sameOrigin(req: Req): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const host = (req.headers[':authority'] as string | undefined) ?? req.headers.host;
  return typeof host === 'string' && origin === `https://${host}`;
}

async function readSmallBody(req: Req, limit = 4096): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error('too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The console's HTTP side: its static files (the page, scripts, styles; none of them holds any
 * data) and its session endpoint. Everything the page shows comes from the mesh's own RPCs,
 * called with the session cookie and CSRF header through the same interceptors and scope checks
 * as every other caller.
 *
 * Sign-in methods: `client-certificate` (the mesh's admin client certificate, presented in the
 * TLS handshake). A session row records its method (`subject_kind`) and subject, and the
 * identity resolver maps each kind to an identity, so another method (accounts with a password
 * or OIDC) adds a kind and a branch in `signIn` without changing sessions, cookies or CSRF.
 */
export function createConsoleHandler(options: ConsoleHandlerOptions): ConsoleHandler {
  const { db, resolver, logger } = options;
  const distDir = path.resolve(options.distDir);

  async function currentSession(req: Req) {
    const token = consoleSessionFromCookie(req.headers.cookie);
    if (!token) return undefined;
    const row = await findConsoleSession(db, hashConsoleSessionToken(token));
    return row && { token, row };
  }

  async function getSession(req: Req, res: Res) {
    const session = await currentSession(req);
    if (!session) {
      return sendJson(res, 401, {
        error: 'not signed in',
        signInMethods: ['client-certificate'],
        certificatePresented: peerCertificate(req) !== undefined,
      });
    }
    sendJson(res, 200, {
      subject: session.row.subject,
      method: session.row.subject_kind,
      expiresAt: session.row.expires_at.toISOString(),
      csrfToken: consoleCsrfToken(session.token),
    });
  }

  async function signIn(req: Req, res: Res) {
    if (!sameOrigin(req)) return sendJson(res, 403, { error: 'sign-in must come from the console page itself' });
    let body: { method?: unknown };
    try {
      body = JSON.parse((await readSmallBody(req)) || '{}');
    } catch {
      return sendJson(res, 400, { error: 'the body must be a small JSON object such as {"method":"client-certificate"}' });
    }
    const method = body.method ?? 'client-certificate';
    if (method !== 'client-certificate') return sendJson(res, 400, { error: `unknown sign-in method ${JSON.stringify(method)}: this mesh offers "client-certificate"` });
    const certificate = peerCertificate(req);
    if (!certificate) return sendJson(res, 401, { error: 'no client certificate was presented: choose the admin certificate (pki/admin.pem) in your browser and reload' });
    let identity;
    try {
      identity = await resolver.resolve({ certificate });
    } catch (err) {
      return sendJson(res, 401, { error: (err as Error).message });
    }
    if (!identity || identity.kind !== 'ADMIN') {
      return sendJson(res, 403, { error: "this client certificate is not the mesh's admin certificate: only the admin can sign in to the console" });
    }
    const token = newConsoleSessionToken();
    const expiresAt = new Date(Date.now() + SESSION_LIFETIME_MS);
    await deleteExpiredConsoleSessions(db);
    await insertConsoleSession(db, {
      id_hash: hashConsoleSessionToken(token),
      subject_kind: 'ADMIN_CERTIFICATE',
      subject: identity.id,
      certificate_spki_sha256: certificate.spkiSha256,
      expires_at: expiresAt,
    });
    logger.info({ subject: identity.id }, 'console sign-in');
    sendJson(
      res,
      200,
      { subject: identity.id, method: 'ADMIN_CERTIFICATE', expiresAt: expiresAt.toISOString(), csrfToken: consoleCsrfToken(token) },
      { 'set-cookie': sessionCookie(token, SESSION_LIFETIME_MS / 1000) },
    );
  }

  async function signOut(req: Req, res: Res) {
    const session = await currentSession(req);
    const csrf = req.headers[CONSOLE_CSRF_HEADER];
    if (session && !consoleCsrfMatches(session.token, typeof csrf === 'string' ? csrf : undefined)) {
      return sendJson(res, 403, { error: `signing out needs the session's CSRF token in the ${CONSOLE_CSRF_HEADER} header` });
    }
    if (session) await deleteConsoleSession(db, session.row.id_hash);
    sendJson(res, 200, { signedOut: true }, { 'set-cookie': sessionCookie('', 0) });
  }

  /**
   * Live pages poll this with If-None-Match: 304 while nothing but reads happened, so they fetch
   * their figures again (RPCs, audited) only when something changed. It is mesh-wide, which is
   * right for the admin; a session of a project's member would get a marker of its projects.
   */
  async function changes(req: Req, res: Res) {
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'use GET' }, { allow: 'GET' });
    if (!(await currentSession(req))) return sendJson(res, 401, { error: 'not signed in' });
    const latest = await latestAuditChange(db);
    const etag = `"${latest ? `${latest.occurred_at.getTime()}-${latest.id}` : 'none'}"`;
    if (req.headers['if-none-match'] === etag) return send(res, 304, { etag, 'cache-control': 'no-cache' }, '');
    sendJson(res, 200, { changed: latest?.occurred_at.toISOString() ?? null }, { etag, 'cache-control': 'no-cache' });
  }

  async function serveFile(req: Req, res: Res, urlPath: string) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, 'method not allowed\n');
    let relative = urlPath.slice(`${CONSOLE_PATH}/`.length);
    if (relative === '') relative = 'index.html';
    // Only plain file names below the build directory: no dot segments, no encoded separators.
    if (!/^[A-Za-z0-9_-][A-Za-z0-9._/-]*$/.test(relative) || relative.split('/').some((part) => part === '..' || part === '' || part.startsWith('.'))) {
      return send(res, 404, { 'content-type': 'text/plain; charset=utf-8' }, 'not found\n');
    }
    const file = path.join(distDir, relative);
    if (!file.startsWith(distDir + path.sep)) return send(res, 404, { 'content-type': 'text/plain; charset=utf-8' }, 'not found\n');
    let body: Buffer;
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
      body = await readFile(file);
    } catch {
      if (relative === 'index.html') {
        return send(res, 503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' }, 'the console is being built (or its build failed: see the mesh log); reload in a few seconds\n');
      }
      return send(res, 404, { 'content-type': 'text/plain; charset=utf-8' }, 'not found\n');
    }
    const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
    // Vite names assets by their content hash: they never change under a name.
    const cache = relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    send(res, 200, { 'content-type': type, 'cache-control': cache, 'content-length': String(body.length) }, req.method === 'HEAD' ? '' : body);
  }

  async function serve(req: Req, res: Res) {
    const urlPath = (req.url ?? '/').split('?', 1)[0];
    if (urlPath === CONSOLE_PATH) return send(res, 308, { location: `${CONSOLE_PATH}/` }, '');
    if (urlPath === SESSION_API) {
      if (req.method === 'GET') return getSession(req, res);
      if (req.method === 'POST') return signIn(req, res);
      if (req.method === 'DELETE') return signOut(req, res);
      return sendJson(res, 405, { error: 'use GET, POST or DELETE' }, { allow: 'GET, POST, DELETE' });
    }
    if (urlPath === CHANGES_API) return changes(req, res);
    if (urlPath.startsWith(`${CONSOLE_PATH}/api/`)) return sendJson(res, 404, { error: `no such console endpoint: ${urlPath}` });
    return serveFile(req, res, urlPath);
  }

  return {
    handles(req) {
      const urlPath = (req.url ?? '/').split('?', 1)[0];
      return urlPath === CONSOLE_PATH || urlPath.startsWith(`${CONSOLE_PATH}/`);
    },
    handle(req, res) {
      serve(req, res).catch((err: unknown) => {
        logger.error({ err }, 'console request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'the console could not answer; see the mesh log' });
        else (res as ServerResponse).end();
      });
    },
  };
}
