/** Per-identity limits the mesh applies when a key or binding sets none (CONTRACT.md, issue 6). */
export const DEFAULT_MAX_ASSET_BYTES = 100 * 1024 * 1024;
/** No key may raise its asset size above this: the RPC listener refuses bigger messages anyway. */
export const MAX_ASSET_BYTES_CEILING = 200 * 1024 * 1024;
export const DEFAULT_REQUESTS_PER_MINUTE = 600;
/** Highest per-key rate an administrator may set. */
export const MAX_REQUESTS_PER_MINUTE = 100_000;
/** Calls without a valid credential, per client IP: enough for a person, too few to guess keys. */
export const ANONYMOUS_REQUESTS_PER_MINUTE = 30;

export interface IdentityLimits {
  /** Largest asset the identity may send, in bytes (signing and verification enforce it). */
  maxAssetBytes: number;
  requestsPerMinute: number;
}
