// The registry package spans two files (resources and service); one module lets index.ts expose
// the whole package as a single namespace.
export * from './gen/c2pamesh/registry/v1/types_pb.js';
export * from './gen/c2pamesh/registry/v1/registry_pb.js';
