import { MAX_ASSET_BYTES_CEILING, type Identity } from '@c2pa-mesh/auth';
import { invalidArgument, notFound } from '@c2pa-mesh/errors';
import { signingV1 } from '@c2pa-mesh/proto';
import { callOptions, identifyOrRefuse } from './caller.js';
import { header, readBody, send, sendJson, type Exchange } from './exchange.js';
import { fetchFileUrl, fetchFileUrlToSpool } from './file-url.js';
import type { RouteContext } from './gateway.js';
import { readMultipartForm, type MultipartForm } from './multipart.js';
import { signSpooledFile } from './large-upload.js';
import { mirrorStageVerifyResult } from './verify-result.js';

/** MirrorStage refuses anything shorter: no complete media file is that small. */
export const MIN_ASSET_BYTES = 100;
/** A manifest definition is text; a megabyte is far more than any real one. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

/** `GET /v1/health`: no credentials; 503 while the process drains. */
export async function health(exchange: Exchange, context: RouteContext): Promise<void> {
  const serving = context.serving?.() ?? true;
  sendJson(exchange, serving ? 200 : 503, { status: serving ? 'ok' : 'draining', engine: context.engine ? 'local' : 'remote' });
}

/**
 * `POST /v1/warmup`: loads the C2PA engine in every worker. The mesh warms its pool before it
 * listens, so this returns at once unless workers were recycled since; safe to call any time.
 */
export async function warmup(exchange: Exchange, context: RouteContext): Promise<void> {
  if (!context.engine) {
    sendJson(exchange, 200, { status: 'ok', warmed: false, reason: 'this process runs no C2PA engine; the signing and verification processes warm their own' });
    return;
  }
  const started = performance.now();
  await context.engine.warmup();
  sendJson(exchange, 200, { status: 'warm', warmed: true, threads: context.engine.stats().threads, duration_ms: Math.round(performance.now() - started) });
}

export function requiredField(fields: Map<string, string>, name: string, what: string): string {
  const value = fields.get(name);
  if (value === undefined || value.trim() === '') throw invalidArgument(`missing field "${name}": ${what}`, { details: { field: name } });
  return value;
}

/** The manifest must at least be a JSON object; what it says is the Signing service's to judge. */
export function parseManifestField(text: string): string {
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (cause) {
    throw invalidArgument(`the field "manifest" is not valid JSON: ${(cause as Error).message}`, { cause, details: { field: 'manifest' } });
  }
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) {
    throw invalidArgument('the field "manifest" must be a JSON object (a manifest definition with claim_generator, title, assertions)', { details: { field: 'manifest' } });
  }
  return text;
}

export function checkMinimumSize(bytes: Uint8Array, field: string): void {
  if (bytes.length < MIN_ASSET_BYTES) {
    throw invalidArgument(`the file is ${bytes.length} bytes; a complete media file is at least ${MIN_ASSET_BYTES} bytes (empty files and placeholders are refused)`, { details: { field } });
  }
}

const INTENTS: Record<string, signingV1.SignIntent> = {
  create: signingV1.SignIntent.CREATE,
  edit: signingV1.SignIntent.EDIT,
  update: signingV1.SignIntent.UPDATE,
};
export const INTENT_NAMES = new Map(Object.entries(INTENTS).map(([name, value]) => [value, name]));

/** The optional `intent` field (create, edit, update); absent or empty: unspecified. */
export function intentField(fields: Map<string, string>): signingV1.SignIntent {
  const value = fields.get('intent')?.trim().toLowerCase() ?? '';
  if (value === '') return signingV1.SignIntent.UNSPECIFIED;
  const intent = INTENTS[value];
  if (intent === undefined) {
    throw invalidArgument(`the field "intent" must be create, edit or update (or be left out: edit a file that has Content Credentials, create otherwise), not "${value.slice(0, 40)}"`, {
      details: { field: 'intent' },
    });
  }
  return intent;
}

/**
 * `POST /v1/sign`, multipart/form-data: `file` (or `file_url`), `manifest`, `format`, optional
 * `intent` → the signed file; `x-sign-intent` says which intent was applied. The upload is
 * refused as soon as it passes the key's size limit.
 */
export async function mirrorStageSign(exchange: Exchange, context: RouteContext): Promise<void> {
  const clients = context.clientsFor(exchange.peer);
  const options = callOptions(exchange);
  const identity = await identifyOrRefuse(exchange, context.resolver, 'sign', () => clients.signing.sign({}, options));
  exchange.pendingAudit = { service: 'signing', operation: 'Sign', identity };
  const maxBytes = identity.limits?.maxAssetBytes ?? MAX_ASSET_BYTES_CEILING;

  const form = await readMultipartForm(exchange, {
    maxFileBytes: maxBytes,
    maxFieldBytes: MAX_MANIFEST_BYTES,
    fileFields: ['file'],
    ...(context.largeUploads ? { spool: { thresholdBytes: context.largeUploads.thresholdBytes, dir: context.largeUploads.spoolDir } } : {}),
  });
  const spooled = form.files.get('file')?.spooled;
  try {
    await signForm(exchange, context, form, identity, maxBytes);
  } finally {
    await spooled?.remove();
  }
}

async function signForm(exchange: Exchange, context: RouteContext, form: MultipartForm, identity: Identity, maxBytes: number): Promise<void> {
  const clients = context.clientsFor(exchange.peer);
  const options = callOptions(exchange);
  exchange.pendingAudit!.format = form.fields.get('format');
  const file = form.files.get('file');
  const fileUrl = form.fields.get('file_url');
  if (file && fileUrl !== undefined) throw invalidArgument('send either "file" (an upload) or "file_url", not both', { details: { field: 'file_url' } });
  if (!file && fileUrl === undefined) throw invalidArgument('missing field "file": upload the media file, or give its address in "file_url"', { details: { field: 'file' } });
  const manifestJson = parseManifestField(requiredField(form.fields, 'manifest', 'the manifest definition as JSON'));
  const format = requiredField(form.fields, 'format', 'the MIME type of the file, e.g. image/jpeg');
  const intent = intentField(form.fields);
  if (file?.spooled) {
    exchange.pendingAudit!.sizeBytes = file.size;
    exchange.pendingAudit = undefined;
    await signSpooledFile(exchange, clients, { file, spooled: file.spooled, format, manifestJson, intent }, options);
    return;
  }

  let asset: Uint8Array;
  if (file) {
    asset = file.bytes;
  } else if (context.largeUploads) {
    // As an upload: a body above the threshold goes to the spool as it arrives, and is signed
    // from there through SignStream.
    const spoolTo = { thresholdBytes: context.largeUploads.thresholdBytes, dir: context.largeUploads.spoolDir };
    const fetched = await fetchFileUrlToSpool(context.urlFetcher, fileUrl!, identity, maxBytes, spoolTo, options.signal);
    if (fetched.spooled !== undefined) {
      try {
        exchange.pendingAudit!.sizeBytes = fetched.size;
        exchange.pendingAudit = undefined;
        const fetchedFile = { field: 'file_url', filename: '', mimeType: 'application/octet-stream', bytes: new Uint8Array(0), size: fetched.size, spooled: fetched.spooled };
        await signSpooledFile(exchange, clients, { file: fetchedFile, spooled: fetched.spooled, format, manifestJson, intent }, options);
      } finally {
        await fetched.spooled.remove();
      }
      return;
    }
    asset = fetched.bytes;
  } else {
    asset = await fetchFileUrl(context.urlFetcher, fileUrl!, identity, maxBytes, options.signal);
  }
  exchange.pendingAudit!.sizeBytes = asset.length;
  checkMinimumSize(asset, file ? 'file' : 'file_url');

  exchange.pendingAudit = undefined;
  const result = await clients.signing.sign({ asset, format, manifestJson, intent }, options);
  send(exchange, 200, result.signedAsset, {
    'content-type': 'application/octet-stream',
    ...(file?.filename ? { 'content-disposition': `attachment; filename="${signedFileName(file.filename)}"` } : {}),
    'x-asset-id': result.assetId,
    'x-asset-sha256': result.assetSha256,
    'x-manifest-label': result.activeManifestLabel,
    ...(result.warnings.length > 0 ? { 'x-c2pa-warnings': warningsHeader(result.warnings) } : {}),
    ...(INTENT_NAMES.has(result.intent) ? { 'x-sign-intent': INTENT_NAMES.get(result.intent)! } : {}),
  });
}

/**
 * SignResponse.warnings as one header: an RFC 8941 list of the warning codes, each with the
 * request field it concerns as a parameter, e.g.
 * `manifest.schemaOrgContextAdded;field="manifest_json.assertions[1].data"`. The signed file is the
 * body, so this is the only place a form caller learns what was completed in its manifest.
 */
export function warningsHeader(warnings: ReadonlyArray<{ code: string; field: string }>): string {
  const quoted = (text: string) => `"${text.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, '\\$&')}"`;
  return warnings.map((w) => (w.field ? `${w.code};field=${quoted(w.field)}` : w.code)).join(', ');
}

/** `photo.jpg` → `photo-signed.jpg`, limited to characters every client takes in a header. */
export function signedFileName(filename: string): string {
  const safe = filename.replace(/[^A-Za-z0-9._-]/g, '_').slice(-120);
  const dot = safe.lastIndexOf('.');
  return dot > 0 ? `${safe.slice(0, dot)}-signed${safe.slice(dot)}` : `${safe}-signed`;
}

/** Content types that say nothing about the media format; the service then sniffs the bytes. */
const GENERIC_TYPES = /^(application\/octet-stream|application\/x-www-form-urlencoded|binary\/octet-stream)?\s*(;.*)?$/i;

/** `POST /v1/verify`, the file as the body → the validation result as JSON. */
export async function mirrorStageVerify(exchange: Exchange, context: RouteContext): Promise<void> {
  const clients = context.clientsFor(exchange.peer);
  const options = callOptions(exchange);
  const identity = await identifyOrRefuse(exchange, context.resolver, 'verify', () => clients.verification.verify({}, options));
  exchange.pendingAudit = { service: 'verification', operation: 'Verify', identity };
  const maxBytes = identity.limits?.maxAssetBytes ?? MAX_ASSET_BYTES_CEILING;
  const contentType = header(exchange.req, 'content-type') ?? '';
  const format = GENERIC_TYPES.test(contentType) ? '' : contentType.split(';')[0].trim();
  exchange.pendingAudit.format = format || undefined;

  const asset = await readBody(exchange, maxBytes, 'the file');
  exchange.pendingAudit!.sizeBytes = asset.length;
  checkMinimumSize(asset, 'body');

  exchange.pendingAudit = undefined;
  const result = await clients.verification.verify({ asset, format }, options);
  if (result.manifestStoreJson === '') {
    throw notFound('no C2PA data in this file: it carries no Content Credentials manifest to verify');
  }
  sendJson(exchange, 200, { ...mirrorStageVerifyResult(result), request_id: exchange.requestId });
}
