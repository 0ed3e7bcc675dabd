import { Code, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import { AccountService, CertificateAuthorityService, Health, OnboardingService, RegistryService, SigningService, VerificationService } from '@c2pa-mesh/proto';

/** What the session endpoint answers for a signed-in person. */
export interface Session {
  /** The admin's SPIFFE id, or the account's e-mail address. */
  subject: string;
  /** `ADMIN_CERTIFICATE` or `ACCOUNT`. */
  method: string;
  userId?: string;
  displayName?: string;
  expiresAt: string;
  csrfToken: string;
}

let csrfToken = '';
let consoleProject = '';
let onSessionEnded: () => void = () => {};

export function useSession(session: Session | undefined, ended: () => void) {
  csrfToken = session?.csrfToken ?? '';
  onSessionEnded = ended;
}

/**
 * The project a person's calls act on (their role's scopes there). Sessions of the admin
 * certificate are mesh-wide and leave it empty.
 */
export function setConsoleProject(projectId: string) {
  if (projectId !== consoleProject) liveEtag = '';
  consoleProject = projectId;
}

// Every call carries the session's CSRF token (and a person's project); the cookie goes by itself (same origin).
const withCsrf: Interceptor = (next) => async (req) => {
  req.header.set('x-csrf-token', csrfToken);
  if (consoleProject) req.header.set('x-console-project', consoleProject);
  try {
    return await next(req);
  } catch (err) {
    if (ConnectError.from(err).code === Code.Unauthenticated) onSessionEnded();
    throw err;
  }
};

// The same services and messages as every other client of the mesh: one API.
const transport = createConnectTransport({
  baseUrl: location.origin,
  useBinaryFormat: true,
  interceptors: [withCsrf],
  fetch: (input, init) => fetch(input, { ...init, credentials: 'same-origin' }),
});

export const registry = createClient(RegistryService, transport);
export const signing = createClient(SigningService, transport);
export const verification = createClient(VerificationService, transport);
export const ca = createClient(CertificateAuthorityService, transport);
export const health = createClient(Health, transport);
export const onboarding = createClient(OnboardingService, transport);
export const account = createClient(AccountService, transport);

const SESSION_URL = '/console/api/session';

export interface SignedOut {
  certificatePresented: boolean;
  /** The sign-in methods this mesh offers (`client-certificate`, `password`). */
  signInMethods: string[];
  error?: string;
}

export async function fetchSession(): Promise<Session | SignedOut> {
  const res = await fetch(SESSION_URL, { credentials: 'same-origin', cache: 'no-store' });
  const body = await res.json();
  return res.ok ? (body as Session) : { certificatePresented: Boolean(body.certificatePresented), signInMethods: body.signInMethods ?? ['client-certificate'] };
}

/**
 * Opens a console session: with the admin certificate the browser presents, or with a person's
 * e-mail address and password. The mesh keeps whatever tokens it gets: the page gets a cookie it
 * cannot read and a CSRF token.
 */
export async function signIn(credentials: { method: 'client-certificate' } | { method: 'password'; email: string; password: string } = { method: 'client-certificate' }): Promise<Session> {
  const res = await fetch(SESSION_URL, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(credentials),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? `sign-in failed (${res.status})`);
  return body as Session;
}

export async function signOut(): Promise<void> {
  await fetch(SESSION_URL, { method: 'DELETE', credentials: 'same-origin', headers: { 'x-csrf-token': csrfToken } });
}

/** A message a person can read from any failure of a call. */
export function errorText(err: unknown): string {
  if (err instanceof ConnectError) return `${Code[err.code] ?? 'error'}: ${err.rawMessage}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Live pages: one poll every 3 s of the console's change marker with If-None-Match. The mesh
 * answers 304 while nothing but reads happened; on a new marker every subscribed page loads its
 * figures again. Nothing is polled while the tab is hidden.
 */
const CHANGES_URL = '/console/api/changes';
const LIVE_POLL_MS = 3000;
const liveListeners = new Set<() => void>();
let liveEtag = '';
let liveTimer: ReturnType<typeof setInterval> | undefined;

async function pollChanges() {
  if (document.visibilityState !== 'visible') return;
  // A person's marker is their project's: another tenant's calls never wake this page.
  const url = consoleProject ? `${CHANGES_URL}?project=${encodeURIComponent(consoleProject)}` : CHANGES_URL;
  const res = await fetch(url, { credentials: 'same-origin', cache: 'no-store', headers: liveEtag ? { 'if-none-match': liveEtag } : {} }).catch(() => undefined);
  if (res?.status !== 200) return;
  const first = liveEtag === '';
  liveEtag = res.headers.get('etag') ?? '';
  if (!first) liveListeners.forEach((listener) => listener());
}

export function onMeshChange(listener: () => void): () => void {
  liveListeners.add(listener);
  if (!liveTimer) {
    void pollChanges();
    liveTimer = setInterval(() => void pollChanges(), LIVE_POLL_MS);
  }
  return () => {
    liveListeners.delete(listener);
    if (liveListeners.size === 0 && liveTimer) {
      clearInterval(liveTimer);
      liveTimer = undefined;
      liveEtag = '';
    }
  };
}
