export * from './routes.js';
export * from './audit-sink.js';
