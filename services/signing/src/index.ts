export * from './routes.js';
export { canonicalJson } from './canonical-json.js';
export { HASH_RECORD_TYPE } from './hash-record.js';
export { DEFAULT_DIGITAL_SOURCE_TYPE, MESH_CLAIM_GENERATOR, prepareManifestDefinition } from './manifest-definition.js';
