import type { CallOptions } from '@connectrpc/connect';
import { hasScope, type Identity, type IdentityResolver, type Scope } from '@c2pa-mesh/auth';
import { unauthenticated } from '@c2pa-mesh/errors';
import { RATE_LIMIT_HEADERS } from '@c2pa-mesh/server';
import { header, type Exchange } from './exchange.js';

/** Per-call options that carry the HTTP caller's credentials into the mesh's interceptors. */
export function callOptions(exchange: Exchange, headers: Headers = exchange.forwardedHeaders): CallOptions {
  return { headers, signal: abortSignalOf(exchange), onHeader: (answered) => noteRateLimit(exchange, answered) };
}

/**
 * Keeps the caller's rate-limit standing the mesh reported on an RPC's answer (or its refusal),
 * so that the gateway's answer carries it too (`x-ratelimit-*`).
 */
export function noteRateLimit(exchange: Exchange, answered: Headers): void {
  const limit = answered.get(RATE_LIMIT_HEADERS.limit);
  if (limit === null) return;
  exchange.rateLimit = {
    [RATE_LIMIT_HEADERS.limit]: limit,
    [RATE_LIMIT_HEADERS.remaining]: answered.get(RATE_LIMIT_HEADERS.remaining) ?? '0',
    [RATE_LIMIT_HEADERS.reset]: answered.get(RATE_LIMIT_HEADERS.reset) ?? '',
  };
}

/** Aborted when the HTTP caller goes away, so the services stop working for nobody. */
function abortSignalOf(exchange: Exchange): AbortSignal {
  const controller = new AbortController();
  exchange.res.once('close', () => {
    if (!exchange.res.writableFinished) controller.abort(new Error('the HTTP caller disconnected'));
  });
  return controller.signal;
}

/**
 * Looks at the caller's credential before the body is read, only to learn its size limit and to
 * spare reading uploads that will be refused. It decides nothing: every call still goes through
 * the interceptors, which authenticate, check scopes, rate-limit and audit on their own.
 */
export async function peekIdentity(exchange: Exchange, resolver: IdentityResolver, scope: Scope, projectId?: string): Promise<Identity | undefined> {
  const authorization = header(exchange.req, 'authorization');
  let bearerToken: string | undefined;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) return undefined;
    bearerToken = match[1];
  } else {
    bearerToken = header(exchange.req, 'x-api-key');
  }
  try {
    const identity = await resolver.resolve({ certificate: exchange.peer.credentials.certificate, bearerToken, projectId });
    return identity && hasScope(identity, scope) ? identity : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The caller's identity when it may make this call; otherwise the interceptors refuse the call
 * (`refuse` makes it without reading the upload), so that the refusal is answered and audited
 * exactly as for an RPC.
 */
export async function identifyOrRefuse(exchange: Exchange, resolver: IdentityResolver, scope: Scope, refuse: () => Promise<unknown>, projectId?: string): Promise<Identity> {
  const identity = await peekIdentity(exchange, resolver, scope, projectId);
  if (identity) return identity;
  await refuse();
  // Only reached if the credential became valid between the two checks (a key created just now).
  throw unauthenticated('the credential changed while the request was checked; send the request again');
}
