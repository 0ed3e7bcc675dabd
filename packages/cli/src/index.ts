export { runCli, buildProgram } from './program.js';
export { createBatchProgress, type BatchProgress } from './batch.js';
export { collectMediaFiles, formatOf, type MediaFile } from './media-files.js';
export { formatTable, CliError, type CliIo } from './io.js';
export { connect, DEFAULT_URL, type ConnectionOptions, type MeshConnection } from './connection.js';
