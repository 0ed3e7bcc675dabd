import { createHash } from 'node:crypto';
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
import { clientIp, peerCertificate } from '@c2pa-mesh/server';
import {
  type ConsoleSessionRow,
  type Database,
  deleteConsoleSession,
  deleteExpiredConsoleSessions,
  findConsoleSession,
  findProjectRole,
  findUserById,
  insertConsoleSession,
  latestAuditChange,
  revokeAccountSession,
} from '@c2pa-mesh/storage';
import type { Logger } from 'pino';
import { SECURITY_HEADERS } from './headers.js';

export const CONSOLE_PATH = '/console';
const SESSION_API = `${CONSOLE_PATH}/api/session`;
const CHANGES_API = `${CONSOLE_PATH}/api/changes`;
/** A console session lasts a working day; then the person signs in again. */
const SESSION_LIFETIME_MS = 8 * 60 * 60 * 1000;

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

/** A person's password sign-in, as AccountService/Login answers it. */
export interface PasswordLogin {
  userId: string;
  email: string;
  /** The account session the console session stands on. */
  sessionId: string;
  /** Seconds until that account session expires. */
  sessionExpiresIn: number;
}

/** A refused sign-in: the HTTP status and a message a person can act on. */
export class SignInRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ConsoleHandlerOptions {
  db: Database;
  resolver: IdentityResolver;
  /**
   * Signs a person in with their e-mail address and password (AccountService/Login, with its
   * attempt limits, as a call from the browser's address); throws SignInRefused. Without it the
   * console offers the admin certificate only.
   */
  passwordLogin?: (attempt: { email: string; password: string; clientIp: string; userAgent: string }) => Promise<PasswordLogin>;
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

/** Sign-in bodies are tiny; a password is at most 256 characters. */
const SIGN_IN_BODY_LIMIT = 4096;

/**
 * The console's HTTP side: its static files (the page, scripts, styles; none of them holds any
 * data) and its session endpoint. Everything the page shows comes from the mesh's own RPCs,
 * called with the session cookie and CSRF header through the same interceptors and scope checks
 * as every other caller.
 *
 * Sign-in methods: `client-certificate` (the mesh's admin client certificate, presented in the
 * TLS handshake) and `password` (a person's account: e-mail address and password, checked by
 * AccountService/Login). A session row records its method (`subject_kind`) and subject, and the
 * identity resolver maps each kind to an identity. No token of the account ever reaches the page:
 * the console session stands on the account session Login opened, which the resolver checks on
 * every call, and signing out ends both.
 */
export function createConsoleHandler(options: ConsoleHandlerOptions): ConsoleHandler {
  const { db, resolver, logger, passwordLogin } = options;
  const distDir = path.resolve(options.distDir);
  const signInMethods = passwordLogin ? ['client-certificate', 'password'] : ['client-certificate'];

  /** The request's session, if it is open: its row not expired, and what it stands on still valid. */
  async function currentSession(req: Req): Promise<{ token: string; row: ConsoleSessionRow } | undefined> {
    const token = consoleSessionFromCookie(req.headers.cookie);
    if (!token) return undefined;
    const row = await findConsoleSession(db, hashConsoleSessionToken(token));
    if (!row) return undefined;
    // The resolver says whether the account session (or the admin certificate) still holds.
    const identity = await resolver.resolve({ consoleSession: { token, csrfToken: consoleCsrfToken(token) } }).catch(() => undefined);
    return identity ? { token, row } : undefined;
  }

  async function sessionBody(token: string, row: { subject_kind: string; subject: string; expires_at: Date }) {
    const account = row.subject_kind === 'ACCOUNT' ? await findUserById(db, row.subject) : undefined;
    return {
      subject: account?.email ?? row.subject,
      method: row.subject_kind,
      ...(account ? { userId: account.id, displayName: account.display_name } : {}),
      expiresAt: row.expires_at.toISOString(),
      csrfToken: consoleCsrfToken(token),
    };
  }

  async function getSession(req: Req, res: Res) {
    const session = await currentSession(req);
    if (!session) {
      return sendJson(res, 401, { error: 'not signed in', signInMethods, certificatePresented: peerCertificate(req) !== undefined });
    }
    sendJson(res, 200, await sessionBody(session.token, session.row));
  }

  async function openSession(res: Res, row: { subject_kind: 'ADMIN_CERTIFICATE' | 'ACCOUNT'; subject: string; certificate_spki_sha256?: string; account_session_id?: string }, lifetimeMs: number) {
    const token = newConsoleSessionToken();
    const expiresAt = new Date(Date.now() + lifetimeMs);
    await deleteExpiredConsoleSessions(db);
    await insertConsoleSession(db, {
      id_hash: hashConsoleSessionToken(token),
      subject_kind: row.subject_kind,
      subject: row.subject,
      certificate_spki_sha256: row.certificate_spki_sha256 ?? null,
      account_session_id: row.account_session_id ?? null,
      expires_at: expiresAt,
    });
    logger.info({ subject: row.subject, method: row.subject_kind }, 'console sign-in');
    const body = await sessionBody(token, { ...row, expires_at: expiresAt });
    sendJson(res, 200, body, { 'set-cookie': sessionCookie(token, Math.floor(lifetimeMs / 1000)) });
  }

  async function signInWithCertificate(req: Req, res: Res) {
    const certificate = peerCertificate(req);
    if (!certificate) return sendJson(res, 401, { error: 'no client certificate was presented: choose the admin certificate (pki/admin.pem) in your browser and reload' });
    let identity;
    try {
      identity = await resolver.resolve({ certificate });
    } catch (err) {
      return sendJson(res, 401, { error: (err as Error).message });
    }
    if (!identity || identity.kind !== 'ADMIN') {
      return sendJson(res, 403, { error: "this client certificate is not the mesh's admin certificate: only the admin can sign in to the console with a certificate" });
    }
    await openSession(res, { subject_kind: 'ADMIN_CERTIFICATE', subject: identity.id, certificate_spki_sha256: certificate.spkiSha256 }, SESSION_LIFETIME_MS);
  }

  async function signInWithPassword(req: Req, res: Res, body: { email?: unknown; password?: unknown }) {
    if (!passwordLogin) return sendJson(res, 400, { error: 'this mesh offers no password sign-in: use the admin certificate' });
    if (typeof body.email !== 'string' || typeof body.password !== 'string') return sendJson(res, 400, { error: 'give "email" and "password" as strings' });
    let login: PasswordLogin;
    try {
      login = await passwordLogin({ email: body.email, password: body.password, clientIp: clientIp(req), userAgent: String(req.headers['user-agent'] ?? '') });
    } catch (err) {
      if (err instanceof SignInRefused) return sendJson(res, err.status, { error: err.message });
      throw err;
    }
    // The console session ends with its working day, or with the account session if sooner.
    const lifetimeMs = Math.min(SESSION_LIFETIME_MS, login.sessionExpiresIn * 1000);
    await openSession(res, { subject_kind: 'ACCOUNT', subject: login.userId, account_session_id: login.sessionId }, lifetimeMs);
  }

  async function signIn(req: Req, res: Res) {
    if (!sameOrigin(req)) return sendJson(res, 403, { error: 'sign-in must come from the console page itself' });
    let body: { method?: unknown; email?: unknown; password?: unknown };
    try {
      body = JSON.parse((await readSmallBody(req, SIGN_IN_BODY_LIMIT)) || '{}');
    } catch {
      return sendJson(res, 400, { error: 'the body must be a small JSON object such as {"method":"client-certificate"} or {"method":"password","email":…,"password":…}' });
    }
    const method = body?.method ?? 'client-certificate';
    if (method === 'client-certificate') return signInWithCertificate(req, res);
    if (method === 'password' && passwordLogin) return signInWithPassword(req, res, body);
    return sendJson(res, 400, { error: `unknown sign-in method ${JSON.stringify(method)}: this mesh offers ${signInMethods.map((m) => `"${m}"`).join(' and ')}` });
  }

  async function signOut(req: Req, res: Res) {
    const token = consoleSessionFromCookie(req.headers.cookie);
    const row = token ? await findConsoleSession(db, hashConsoleSessionToken(token)) : undefined;
    const csrf = req.headers[CONSOLE_CSRF_HEADER];
    if (token && row && !consoleCsrfMatches(token, typeof csrf === 'string' ? csrf : undefined)) {
      return sendJson(res, 403, { error: `signing out needs the session's CSRF token in the ${CONSOLE_CSRF_HEADER} header` });
    }
    if (row) {
      await deleteConsoleSession(db, row.id_hash);
      // The account session Login opened for the console has no other holder: it ends too.
      if (row.account_session_id) await revokeAccountSession(db, row.account_session_id, 'signed out of the console');
    }
    sendJson(res, 200, { signedOut: true }, { 'set-cookie': sessionCookie('', 0) });
  }

  /**
   * Live pages poll this with If-None-Match: 304 while nothing but reads happened, so they fetch
   * their figures again (RPCs, audited) only when something changed. `?project=` narrows the
   * marker to one project: a person's session must name one of their organizations' projects
   * (another's is not found), so one tenant's traffic never wakes, nor shows in, another's
   * console; the admin's is mesh-wide without it. The ETag is a digest: it tells when, not what.
   */
  async function changes(req: Req, res: Res) {
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'use GET' }, { allow: 'GET' });
    const session = await currentSession(req);
    if (!session) return sendJson(res, 401, { error: 'not signed in' });
    const project = new URL(req.url ?? '/', 'https://console.invalid').searchParams.get('project') || undefined;
    let latest: { id: string; occurred_at: Date } | undefined;
    if (session.row.subject_kind === 'ACCOUNT') {
      if (project !== undefined && !(await findProjectRole(db, project, session.row.subject))) return sendJson(res, 404, { error: `no project ${project}` });
      // A person with no project chosen acts on nothing: there is nothing to watch.
      latest = project === undefined ? undefined : await latestAuditChange(db, project);
    } else {
      latest = await latestAuditChange(db, project);
    }
    const digest = createHash('sha256')
      .update(`${session.row.id_hash}|${project ?? ''}|${latest ? `${latest.occurred_at.getTime()}|${latest.id}` : 'none'}`)
      .digest('base64url')
      .slice(0, 22);
    const etag = `"${digest}"`;
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
