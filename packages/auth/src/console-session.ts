import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The console's session cookie. `__Host-` makes the browser insist on Secure, Path=/ and no
 * Domain, so no other host or plain-HTTP page can set or read it. Path=/ because the console's
 * Connect calls go to the RPC paths at the root of the listener.
 */
export const CONSOLE_SESSION_COOKIE = '__Host-mesh-console';
/** Header that carries the CSRF token on every call made with the session cookie. */
export const CONSOLE_CSRF_HEADER = 'x-csrf-token';
/**
 * Header naming the project a call of a person's console session acts on: people act through the
 * role their organization gives them on one project at a time, as with an access token made for
 * a project. Sessions of mesh-wide identities (the admin certificate) ignore it.
 */
export const CONSOLE_PROJECT_HEADER = 'x-console-project';
const SESSION_PREFIX = 'cs_';

/** How a console session was opened; each kind maps to an identity in the resolver. */
export type ConsoleSubjectKind = 'ADMIN_CERTIFICATE' | 'ACCOUNT';

/** The session credentials a console request carries: the cookie's secret and the CSRF header. */
export interface ConsoleSessionCredentials {
  token: string;
  csrfToken: string | undefined;
  /** The project named in CONSOLE_PROJECT_HEADER, if any. */
  projectId?: string;
}

/** A new session secret (256 bits); the database keeps only its SHA-256. */
export function newConsoleSessionToken(): string {
  return `${SESSION_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function hashConsoleSessionToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The CSRF token of a session: an HMAC of the label under the session secret. The page reads it
 * from the session endpoint (same-origin only) and sends it back in a header, which a cross-site
 * form or image cannot do; nothing more needs storing, and it dies with the session.
 */
export function consoleCsrfToken(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('c2pa-mesh console csrf', 'utf8').digest('base64url');
}

export function consoleCsrfMatches(sessionToken: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const expected = Buffer.from(consoleCsrfToken(sessionToken));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The session secret from a Cookie header, if it holds a well-formed one. */
export function consoleSessionFromCookie(cookieHeader: string | string[] | undefined): string | undefined {
  const header = Array.isArray(cookieHeader) ? cookieHeader.join('; ') : cookieHeader;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== CONSOLE_SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    if (value.startsWith(SESSION_PREFIX) && /^[A-Za-z0-9_-]{20,100}$/.test(value)) return value;
  }
  return undefined;
}
