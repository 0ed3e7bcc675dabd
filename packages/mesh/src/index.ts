export * from './mesh.js';
export * from './bootstrap-pki.js';
