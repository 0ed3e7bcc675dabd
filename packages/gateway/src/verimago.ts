import type { Identity } from '@c2pa-mesh/auth';
import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';
import { callOptions, identifyOrRefuse } from './caller.js';
import { readBody, sendJson, type Exchange } from './exchange.js';
import type { RouteContext } from './gateway.js';
import { jsonObject, stringField, VERIMAGO_PREFIX } from './verimago-http.js';

/** Verimago's shield colours: how the content came about, at a glance. */
export const SHIELD_STATES: Record<string, 'GREEN' | 'BLUE' | 'AMBER'> = {
  AUTHENTIC: 'GREEN',
  AI_ENHANCED: 'BLUE',
  AI_GENERATED: 'AMBER',
};

/** Verimago allows 1000 lookups per minute per client address on its public endpoint. */
export const DEFAULT_PUBLIC_LOOKUPS_PER_MINUTE = 1000;

const MAX_JSON_BYTES = 64 * 1024;

/**
 * What content type a record shows as. Verimago's default is AUTHENTIC; files signed through
 * `/v1/sign` record none and show as that default too.
 */
export function shieldStateFor(contentType: string): 'GREEN' | 'BLUE' | 'AMBER' {
  return SHIELD_STATES[contentType.toUpperCase()] ?? 'GREEN';
}

function optionalString(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalidArgument(`"${name}" must be a string`, { details: { field: name } });
  return value;
}

function requiredString(body: Record<string, unknown>, name: string, what: string): string {
  const value = optionalString(body, name);
  if (value.trim() === '') throw invalidArgument(`missing field "${name}": ${what}`, { details: { field: name } });
  return value;
}

function stringList(body: Record<string, unknown>, name: string): string[] {
  const value = body[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw invalidArgument(`"${name}" must be an array of strings`, { details: { field: name } });
  }
  return value;
}

/**
 * `POST /v1/sign` with a JSON body: Verimago's hash-only signing. The file never leaves the
 * caller; the mesh signs its SHA-256 with the descriptive fields and registers the record.
 */
export async function verimagoSign(exchange: Exchange, context: RouteContext): Promise<void> {
  const clients = context.clientsFor(exchange.peer);
  const options = callOptions(exchange);
  const identity = await identifyOrRefuse(exchange, context.resolver, 'sign', () => clients.signing.signHash({}, options));
  exchange.pendingAudit = { service: 'signing', operation: 'SignHash', identity };

  const text = Buffer.from(await readBody(exchange, MAX_JSON_BYTES, 'the JSON body')).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw invalidArgument(`the body is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidArgument('the body must be a JSON object with contentHash and headline');
  }
  const fields = body as Record<string, unknown>;
  const request = {
    contentHash: requiredString(fields, 'contentHash', 'sha256: followed by the hex SHA-256 of the content'),
    headline: requiredString(fields, 'headline', 'a description of the content'),
    author: optionalString(fields, 'journalist'),
    location: optionalString(fields, 'location'),
    recordedAt: optionalString(fields, 'recordedAt'),
    contentType: optionalString(fields, 'contentType').toUpperCase(),
    captureMode: optionalString(fields, 'captureMode').toUpperCase(),
    tags: stringList(fields, 'tags'),
  };

  exchange.pendingAudit = undefined;
  const result = await clients.signing.signHash(request, options);
  const contentHash = result.contentHash || request.contentHash;
  sendJson(exchange, 201, {
    contentHash,
    signature: Buffer.from(result.signature).toString('base64'),
    shieldState: shieldStateFor(request.contentType || 'AUTHENTIC'),
    signedAt: result.signedAt,
    // Under the prefix the caller used: `/verimago/v1/verify/…` or `/v1/verify/…`.
    verifyUrl: `${exchange.publicBaseUrl}${exchange.path.startsWith(VERIMAGO_PREFIX) ? VERIMAGO_PREFIX : '/v1/'}verify/${contentHash}`,
    // Beyond Verimago's shape: where the record lives, and what exactly was signed.
    assetId: result.assetId,
    payload: result.payloadJson,
    certificateChainPem: result.certificateChainPem,
    requestId: exchange.requestId,
  });
}

const CONTENT_HASH = /^(sha256:)?([0-9a-f]{64})$/i;

/** The caller of a public endpoint: no credential, the `verify` scope only, limited per address. */
export function anonymousIdentity(clientIp: string, requestsPerMinute: number): Identity {
  return {
    kind: 'ANONYMOUS',
    id: `anonymous:${clientIp || 'unknown'}`,
    scopes: new Set(['verify']),
    limits: { maxAssetBytes: 0, requestsPerMinute },
  };
}

/**
 * `GET /v1/verify/{sha256:hex}`: Verimago's public lookup. Needs no credential; the call goes
 * through the interceptors as an anonymous identity that may only verify, rate limited per
 * client address, and is audited like any other.
 */
export async function verimagoVerifyByHash(exchange: Exchange, context: RouteContext, hash: string): Promise<void> {
  const match = CONTENT_HASH.exec(hash);
  if (!match) throw invalidArgument(`"${hash.slice(0, 100)}" is not a content hash; use sha256: followed by 64 hex digits`, { details: { field: 'hash' } });
  await answerLookup(exchange, context, `sha256:${match[2].toLowerCase()}`, {});
}

/** Looks a content hash up as the public caller and answers in Verimago's shape (404 GREY when unknown). */
async function answerLookup(exchange: Exchange, context: RouteContext, contentHash: string, extra: Record<string, unknown>): Promise<void> {
  const identity = anonymousIdentity(exchange.peer.clientIp, context.publicLookupsPerMinute ?? DEFAULT_PUBLIC_LOOKUPS_PER_MINUTE);
  const clients = context.clientsFor({ ...exchange.peer, presetIdentity: identity });
  // No headers: a public lookup is anonymous even when the caller sends a key.
  const result = await clients.verification.verifyByHash({ contentHash }, { signal: callOptions(exchange).signal });
  if (!result.found) {
    sendJson(exchange, 404, { verified: false, shieldState: 'GREY', contentHash, ...extra });
    return;
  }
  sendJson(exchange, 200, {
    verified: true,
    shieldState: shieldStateFor(result.contentType || 'AUTHENTIC'),
    publisher: result.signer || null,
    journalist: result.author || null,
    headline: result.headline || result.title || null,
    signedAt: result.signedAt,
    contentType: result.contentType || null,
    certStatus: result.certificateStatus,
    // Beyond Verimago's shape.
    contentHash,
    kind: result.kind,
    format: result.format || null,
    assetId: result.assetId,
    ...extra,
  });
}

/** Verimago's limits on `verify/url`: the largest file fetched, and the time for all of it. */
export const DEFAULT_VERIFY_URL_MAX_BYTES = 500 * 1024 * 1024;
export const DEFAULT_VERIFY_URL_TIMEOUT_MS = 25_000;

/**
 * `POST verify/url` {url}: the server fetches the file (public addresses only, checked by the
 * address policy after every resolution and redirect), hashes it as it arrives without holding
 * it, and looks the hash up like `GET verify/{hash}`. Public; limited per client address.
 */
export async function verimagoVerifyUrl(exchange: Exchange, context: RouteContext): Promise<void> {
  const body = await jsonObject(exchange);
  const url = stringField(body, 'url').trim();
  const fetcher = context.urlFetcher;
  if (!fetcher?.hashAsset) throw failedPrecondition('this server does not fetch URLs; hash the file yourself and use GET verify/{hash}');
  const maxBytes = context.verimago?.urlMaxBytes ?? DEFAULT_VERIFY_URL_MAX_BYTES;
  const timeoutMs = context.verimago?.urlTimeoutMs ?? DEFAULT_VERIFY_URL_TIMEOUT_MS;
  // Too large (413), too slow (504), an address inside our network (400): the fetcher's refusals.
  const fetched = await fetcher.hashAsset({ url, maxBytes, timeoutMs, signal: callOptions(exchange).signal });
  await answerLookup(exchange, context, `sha256:${fetched.sha256}`, { url, finalUrl: fetched.finalUrl, sizeBytes: fetched.sizeBytes });
}
