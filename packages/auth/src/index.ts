export * from './scopes.js';
export * from './identity.js';
export * from './resolver.js';
export * from './api-key-secret.js';
export * from './limits.js';
export * from './console-session.js';
export * from './access-token.js';
