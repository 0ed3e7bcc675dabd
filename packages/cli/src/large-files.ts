import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { create } from '@bufbuild/protobuf';
import { SingleBar } from 'cli-progress';
import { signingV1, verificationV1 } from '@c2pa-mesh/proto';
import type { MeshConnection as Connection } from './connection.js';
import { CliError, type CliIo } from './io.js';

/**
 * Files larger than this go to the mesh in pieces (SignStream, VerifyStream) instead of in one
 * message, and come back in pieces: the CLI never holds them whole (env
 * C2PA_MESH_STREAM_ABOVE_BYTES). The mesh's own thresholds (MESH_STREAM_*_THRESHOLD_BYTES)
 * decide how it treats them.
 */
export const LARGE_FILE_BYTES = 16 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;

export async function isLargeFile(file: string, io: CliIo): Promise<boolean> {
  const raw = io.env.C2PA_MESH_STREAM_ABOVE_BYTES;
  const above = raw === undefined || raw === '' ? LARGE_FILE_BYTES : Number(raw);
  if (!Number.isSafeInteger(above) || above < 0) throw new CliError(`C2PA_MESH_STREAM_ABOVE_BYTES must be a whole number of bytes, not "${raw}"`, 2);
  return (await stat(file)).size > above;
}

/** Bytes sent and received of one large file: a bar on a terminal (stderr), nothing otherwise. */
export interface ByteProgress {
  add(bytes: number): void;
  stop(): void;
}

export function createByteProgress(io: CliIo, options: { label: string; file: string; totalBytes: number; quiet: boolean }): ByteProgress {
  if (!io.stderr.isTTY || options.quiet) return { add() {}, stop() {} };
  const mb = (bytes: number) => (bytes / (1024 * 1024)).toFixed(1);
  const bar = new SingleBar({
    stream: io.stderr,
    format: `${options.label} {bar} {percentage}% | {done}/{all} MB | ETA {eta_formatted} | {file}`,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 20,
    fps: 10,
  });
  let value = 0;
  bar.start(options.totalBytes, 0, { done: mb(0), all: mb(options.totalBytes), file: options.file });
  return {
    add(bytes) {
      value += bytes;
      bar.update(Math.min(value, options.totalBytes), { done: mb(value) });
    },
    stop: () => bar.stop(),
  };
}

/** The file's chunks, each told to `onBytes` as it is handed over. */
async function* chunksOf(file: string, onBytes: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK_BYTES })) {
    onBytes((chunk as Buffer).length);
    yield chunk as Buffer;
  }
}

/**
 * Signs a large file through SignStream: read and sent in pieces, the signed copy written to
 * `output` as it comes back and hashed as written (compared with what the mesh registered).
 * Progress counts the bytes sent, then the bytes received: twice the file.
 */
export async function signLargeFile(
  mesh: Connection,
  file: string,
  output: string,
  options: Omit<signingV1.SignStreamOptions, '$typeName' | 'totalSize'>,
  progress: ByteProgress,
): Promise<{ result: signingV1.SignStreamResult; inputBytes: number; signedBytes: number }> {
  const inputBytes = (await stat(file)).size;
  async function* requests() {
    yield create(signingV1.SignStreamRequestSchema, { payload: { case: 'options', value: create(signingV1.SignStreamOptionsSchema, { ...options, totalSize: BigInt(inputBytes) }) } });
    for await (const chunk of chunksOf(file, (n) => progress.add(n))) yield create(signingV1.SignStreamRequestSchema, { payload: { case: 'chunk', value: chunk } });
  }
  const out = await open(output, 'w');
  const hash = createHash('sha256');
  let signedBytes = 0;
  let result: signingV1.SignStreamResult | undefined;
  try {
    for await (const message of mesh.signing.signStream(requests())) {
      if (message.payload.case === 'chunk') {
        const chunk = message.payload.value;
        await out.write(chunk);
        hash.update(chunk);
        signedBytes += chunk.length;
        progress.add(chunk.length);
      } else if (message.payload.case === 'result') {
        result = message.payload.value;
      }
    }
  } finally {
    await out.close();
  }
  if (result === undefined) throw new CliError('the mesh ended SignStream without a result');
  const written = `sha256:${hash.digest('hex')}`;
  if (written !== result.assetSha256) throw new CliError(`the signed file's SHA-256 is ${written}, the mesh registered ${result.assetSha256}`);
  return { result, inputBytes, signedBytes };
}

/** Verifies a large file through VerifyStream, read and sent in pieces. */
export async function verifyLargeFile(mesh: Connection, file: string, format: string, progress: ByteProgress): Promise<verificationV1.VerifyResponse> {
  const size = (await stat(file)).size;
  async function* requests() {
    yield create(verificationV1.VerifyStreamRequestSchema, { payload: { case: 'options', value: { format, totalSize: BigInt(size) } } });
    for await (const chunk of chunksOf(file, (n) => progress.add(n))) yield create(verificationV1.VerifyStreamRequestSchema, { payload: { case: 'chunk', value: chunk } });
  }
  return mesh.verification.verifyStream(requests());
}
