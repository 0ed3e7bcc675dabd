import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { create } from '@bufbuild/protobuf';
import type { CallOptions } from '@connectrpc/connect';
import type { Spool } from '@c2pa-mesh/c2pa-stream';
import type { CallerClients } from '@c2pa-mesh/clients';
import { MeshError } from '@c2pa-mesh/errors';
import { signingV1 } from '@c2pa-mesh/proto';
import { elapsedMs, type Exchange } from './exchange.js';
import { INTENT_NAMES, signedFileName, warningsHeader } from './mirrorstage.js';
import type { UploadedFile } from './multipart.js';

/** Pieces the spooled upload is sent in. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * MirrorStage `POST /v1/sign` for a file that was spooled: sent to SignStream in pieces, the signed
 * file written beside the upload as it comes back (the headers name the asset the result
 * describes, and the result comes last), then sent from disk. Memory stays constant whatever the
 * file's size; both files go with the spool's directory.
 */
export async function signSpooledFile(
  exchange: Exchange,
  clients: CallerClients,
  upload: { file: UploadedFile; spooled: Spool; format: string; manifestJson: string; intent: signingV1.SignIntent },
  options: CallOptions,
): Promise<void> {
  async function* requests() {
    yield create(signingV1.SignStreamRequestSchema, {
      payload: {
        case: 'options',
        value: create(signingV1.SignStreamOptionsSchema, { format: upload.format, manifestJson: upload.manifestJson, intent: upload.intent, totalSize: BigInt(upload.file.size) }),
      },
    });
    for await (const chunk of createReadStream(upload.spooled.path, { highWaterMark: CHUNK_BYTES })) {
      yield create(signingV1.SignStreamRequestSchema, { payload: { case: 'chunk', value: chunk as Buffer } });
    }
  }
  const signedPath = path.join(path.dirname(upload.spooled.path), 'signed');
  const out = await open(signedPath, 'wx', 0o600);
  let result: signingV1.SignStreamResult | undefined;
  try {
    for await (const message of clients.signing.signStream(requests(), options)) {
      if (message.payload.case === 'chunk') await out.write(message.payload.value);
      else if (message.payload.case === 'result') result = message.payload.value;
    }
  } finally {
    await out.close();
  }
  if (result === undefined) throw new MeshError('internal', 'SignStream ended without a result');
  const { res } = exchange;
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(result.sizeBytes),
    ...(upload.file.filename ? { 'content-disposition': `attachment; filename="${signedFileName(upload.file.filename)}"` } : {}),
    'x-asset-id': result.assetId,
    'x-asset-sha256': result.assetSha256,
    'x-manifest-label': result.activeManifestLabel,
    ...(result.warnings.length > 0 ? { 'x-c2pa-warnings': warningsHeader(result.warnings) } : {}),
    ...(INTENT_NAMES.has(result.intent) ? { 'x-sign-intent': INTENT_NAMES.get(result.intent)! } : {}),
    'x-request-id': exchange.requestId,
    'x-duration-ms': String(elapsedMs(exchange)),
  });
  await pipeline(createReadStream(signedPath, { highWaterMark: CHUNK_BYTES }), res);
}
