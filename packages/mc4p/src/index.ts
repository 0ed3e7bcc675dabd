export { normalizeDomain } from './domains.js';
export type { ProofClaims } from './proof-claims.js';
