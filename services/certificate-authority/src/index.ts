export * from './deps.js';
export * from './routes.js';
export * from './certificate-records.js';
export * from './certificate-authority.js';
export * from './relying-party-routes.js';
export { STATUS_CHANNEL, type StatusChange } from './status-events.js';
export type { OcspAnswer, OcspCacheInfo } from './ocsp-service.js';
export type { PublishedCrl, CrlIssuer } from './crl-service.js';
