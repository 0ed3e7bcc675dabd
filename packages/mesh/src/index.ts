export * from './mesh.js';
export * from './bootstrap-pki.js';
export * from './test-harness.js';
