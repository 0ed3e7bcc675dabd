export * from './deps.js';
export * from './routes.js';
export * from './certificate-records.js';
export * from './relying-party-routes.js';
