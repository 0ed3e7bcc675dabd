import type { IdentityLimits } from './limits.js';
import type { PublicScope, Scope } from './scopes.js';

/**
 * `ANONYMOUS` is never resolved from a credential: the HTTP gateway makes one per client address
 * for its public endpoints (lookup by hash), with the `verify` scope only and a per-address limit.
 */
export type IdentityKind = 'ADMIN' | 'SERVICE' | 'CLIENT_CERTIFICATE' | 'API_KEY' | 'USER' | 'ANONYMOUS';

/** Who is calling, as established by the transport (client certificate) or a bearer API key. */
export interface Identity {
  kind: IdentityKind;
  /** Stable, loggable identifier: key id, SAN URI or SPKI fingerprint; never a secret. */
  id: string;
  /** The tenant this identity acts for; undefined for mesh-wide identities (admin, services). */
  projectId?: string;
  scopes: ReadonlySet<Scope>;
  /** For SERVICE identities: which mesh service. */
  serviceName?: string;
  /**
   * Per-key limits (API keys and bound certificates); undefined for the mesh's own identities.
   * Services that take assets refuse ones above `limits.maxAssetBytes`.
   */
  limits?: IdentityLimits;
  /** Browser origins allowed for this key; empty means any (server-to-server). */
  allowedOrigins?: readonly string[];
  /** For API keys: the name given to the key and when it stops being accepted (undefined: never). */
  keyName?: string;
  expiresAt?: Date;
  /** For USER identities (a person's access token): the session the token belongs to. */
  sessionId?: string;
}

export function hasScope(identity: Identity, scope: Scope): boolean {
  if (identity.scopes.has(scope)) return true;
  // admin holds every public scope; the internal scope stays with service identities.
  return scope !== 'mesh.internal' && identity.scopes.has('admin');
}

/** The project an identity may act on: its own, or any when it is mesh-wide. */
export function projectScope(identity: Identity): string | undefined {
  return identity.projectId;
}

export const ADMIN_SCOPES: ReadonlySet<PublicScope> = new Set<PublicScope>([
  'sign',
  'verify',
  'registry.read',
  'registry.write',
  'ca.issue',
  'ca.revoke',
  'admin',
]);
