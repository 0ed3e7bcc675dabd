export * from './database.js';
export * from './schema.js';
export * from './ids.js';
export * from './pagination.js';
export * from './testing.js';
export * from './repositories/certificates.js';
export * from './repositories/settings.js';
export * from './repositories/audit-events.js';
