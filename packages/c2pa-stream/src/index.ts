export { prepareStreamSigning, STREAMING_FORMATS, STREAM_CHUNK_BYTES, type StreamSigning, type StreamSigningOptions, type StreamSigningResult } from './stream-signer.js';
export { manifestStoreWriter, DATA_HASH_LABEL, type DataHash, type ManifestStoreWriter } from './manifest-store.js';
export { bytesSource, openFileSource, readRange, type ByteSource, type FileSource } from './byte-source.js';
export { STREAMING_LAYOUTS, riffLayout, jpegLayout, type EmbeddingLayout, type OutputPart } from './layouts.js';
