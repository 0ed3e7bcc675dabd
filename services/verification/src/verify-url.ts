import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { checkDeclaredFormat } from '@c2pa-mesh/engine';
import { invalidArgument } from '@c2pa-mesh/errors';
import { verificationV1 } from '@c2pa-mesh/proto';
import { callContext, callerIdentity } from '@c2pa-mesh/server';
import { assetFormat } from './asset-format.js';
import { maxAssetBytes } from './asset-limits.js';
import type { VerificationServiceDeps } from './routes.js';
import { verifyAsset } from './verify-asset.js';

/**
 * The format of a fetched file: the request's, else the response's Content-Type when it fits the
 * bytes (web servers often label files generically or wrongly), else the magic bytes.
 */
function fetchedFormat(requested: string, contentType: string | undefined, bytes: Uint8Array): string {
  if (requested.trim() !== '') return assetFormat(requested, bytes);
  if (contentType !== undefined && bytes.length > 0) {
    try {
      return checkDeclaredFormat(contentType, bytes);
    } catch {
      // Not a supported type, or not what the bytes are: let the bytes speak.
    }
  }
  return assetFormat('', bytes);
}

/** VerifyUrl: fetch (SSRF-safe, size- and time-limited), then verify as Verify does. */
export async function verifyUrl(deps: VerificationServiceDeps, req: verificationV1.VerifyUrlRequest, ctx: HandlerContext) {
  const identity = callerIdentity(ctx);
  const call = callContext(ctx);
  if (req.url.trim() === '') throw invalidArgument('url is required: the https:// address of the file to verify', { details: { field: 'url' } });
  const fetched = await deps.urlFetcher.fetchAsset({ url: req.url.trim(), maxBytes: maxAssetBytes(identity), signal: ctx.signal });
  call.sizeBytes = fetched.bytes.length;
  const format = fetchedFormat(req.format, fetched.contentType, fetched.bytes);
  call.format = format;
  const result = await verifyAsset(
    deps,
    { requestId: call.requestId, projectId: identity.projectId, caller: identity.id, signal: ctx.signal, startedAt: call.startedAt },
    { asset: fetched.bytes, format, source: 'URL' },
  );
  return create(verificationV1.VerifyUrlResponseSchema, { result, finalUrl: fetched.finalUrl, fetchedBytes: BigInt(fetched.bytes.length) });
}
