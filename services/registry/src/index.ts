export * from './routes.js';
export * from './audit-sink.js';
export * from './call-admission.js';
export * from './webhook-targets.js';
export * from './webhook-signature.js';
export * from './webhook-dispatcher.js';
