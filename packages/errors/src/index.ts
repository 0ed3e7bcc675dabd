/**
 * Domain errors shared by every package and service, and the one mapping of a failed call to
 * another service into them.
 */
export * from './mesh-error.js';
export * from './dependency.js';
