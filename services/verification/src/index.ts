export * from './routes.js';
export { verificationSettingsFromEnv, DEFAULT_VERIFICATION_SETTINGS, type VerificationSettings, type UrlFetchSettings } from './settings.js';
export { createTrustStore, type TrustStore, type TrustConfiguration } from './trust-store.js';
export { createUrlFetcher, type UrlFetcher, type UrlFetchTls, type ResolveHost, type StreamedAsset } from './url-fetch.js';
export { AddressPolicy } from '@c2pa-mesh/address-policy';
