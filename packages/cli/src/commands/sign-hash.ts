import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { connect, type ConnectionOptions } from '../connection.js';
import { CliError, formatTable, write, writeJson, type CliIo } from '../io.js';

export interface SignHashOptions extends ConnectionOptions {
  headline: string;
  author?: string;
  contentType?: string;
  location?: string;
  recordedAt?: string;
  captureMode?: string;
  format?: string;
  tag?: string[];
  project?: string;
  signer?: string;
  json?: boolean;
}

const CONTENT_HASH = /^sha256:[0-9a-f]{64}$/i;

/** A `sha256:<hex>` given as it is, or the SHA-256 of a file, read as a stream (never sent). */
async function contentHashOf(arg: string, cwd: string): Promise<{ contentHash: string; file?: string }> {
  if (CONTENT_HASH.test(arg)) return { contentHash: arg.toLowerCase() };
  const file = path.resolve(cwd, arg);
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new CliError(`"${arg}" is neither a content hash (sha256:<64 hex digits>) nor a file`, 2);
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return { contentHash: `sha256:${hash.digest('hex')}`, file };
}

/** `c2pa-mesh sign-hash HASH|FILE`: signs a content hash with descriptive metadata; the file stays here. */
export async function signHash(arg: string, options: SignHashOptions, io: CliIo): Promise<number> {
  const { contentHash, file } = await contentHashOf(arg, io.cwd);
  const mesh = connect(options, io);
  const result = await mesh.signing.signHash({
    contentHash,
    headline: options.headline,
    author: options.author ?? '',
    contentType: (options.contentType ?? '').toUpperCase(),
    location: options.location ?? '',
    recordedAt: options.recordedAt ?? '',
    captureMode: (options.captureMode ?? '').toUpperCase(),
    format: options.format ?? '',
    tags: options.tag ?? [],
    projectId: options.project ?? '',
    signerId: options.signer ?? '',
  });
  if (options.json) {
    writeJson(io, {
      contentHash: result.contentHash,
      file,
      assetId: result.assetId,
      signedAt: result.signedAt,
      signerId: result.signerId,
      certificateId: result.certificateId,
      signature: Buffer.from(result.signature).toString('base64'),
      payload: JSON.parse(result.payloadJson || '{}'),
      requestId: result.requestId,
    });
  } else {
    write(io.stdout, formatTable(['CONTENT HASH', 'ASSET', 'SIGNED AT', 'SIGNER'], [[result.contentHash, result.assetId, result.signedAt, result.signerId]]));
  }
  return 0;
}
