export { createProductCertificateService } from './routes.js';
export type { ProductCertificateDeps } from './deps.js';
export { createProofKeyRing, makeProofKey, parseProofAlgorithm, PROOF_ALGORITHMS, type ProofAlgorithm, type ProofKeyRing, type PublishedJwk } from './proof-keys.js';
export { createDnsResolver, createDomainOwnership, DNS_CHALLENGE_PREFIX, WELL_KNOWN_PATH, type DomainOwnership } from './domain-ownership.js';
export { createPublicProductCertificates, type PublicAnswer, type PublicProductCertificates, type Problem } from './public-certificates.js';
export { normalizeDomain } from '@c2pa-mesh/mc4p';
export { claimMismatches, proofClaims } from './certificate-document.js';
export { productCertificateSettingsFromEnv, DEFAULT_PRODUCT_CERTIFICATE_SETTINGS, type ProductCertificateSettings } from './settings.js';
export { startProofKeyRotation, type ProofKeyRotation } from './key-rotation.js';
