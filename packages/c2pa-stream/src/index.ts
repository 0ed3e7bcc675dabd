export { prepareStreamSigning, signDetachedManifestStore, STREAMING_FORMATS, STREAM_CHUNK_BYTES, type StreamSigning, type StreamSigningOptions, type StreamSigningResult } from './stream-signer.js';
export { manifestStoreWriter, dataHashBinding, DATA_HASH_LABEL, type DataHash, type HardBinding, type ManifestStoreWriter } from './manifest-store.js';
export { bytesSource, openFileSource, readRange, type ByteSource, type FileSource } from './byte-source.js';
export { STREAMING_LAYOUTS, riffLayout, jpegLayout, bmffLayout, type EmbeddingLayout, type OutputPart } from './layouts.js';
export { checkHardBinding, verifyFromSource, withHardBinding, type HardBindingOutcome } from './stream-verifier.js';
export { locateManifestStore, STREAM_VERIFY_FORMATS } from './store-locators.js';
export { createSpool, type Spool } from './spool.js';
export { prepareOnePassSigning, ONE_PASS_FORMATS, type OnePassSigning, type OnePassSigningOptions } from './one-pass-signer.js';
