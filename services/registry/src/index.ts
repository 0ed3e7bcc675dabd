export * from './routes.js';
export * from './audit-sink.js';
export * from './call-admission.js';
export * from './webhook-targets.js';
export * from './webhook-signature.js';
export * from './webhook-dispatcher.js';
export { requestedProject, requiredProject, visibleTo } from './access.js';
export { pageOf, pageRequest, type PageRequest } from './paging.js';
