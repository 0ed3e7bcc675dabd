export * from './routes.js';
export * from './audit-sink.js';
export * from './call-admission.js';
export * from './webhook-targets.js';
export * from './webhook-signature.js';
export * from './webhook-dispatcher.js';
export { requestedProject, requiredProject, visibleTo } from '@c2pa-mesh/server';
export { pageOf, pageRequest, type PageRequest } from '@c2pa-mesh/storage';
