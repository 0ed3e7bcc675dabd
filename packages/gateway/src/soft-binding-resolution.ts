import { MAX_ASSET_BYTES_CEILING } from '@c2pa-mesh/auth';
import { invalidArgument } from '@c2pa-mesh/errors';
import type { softBindingV1 } from '@c2pa-mesh/proto';
import { callOptions, identifyOrRefuse } from './caller.js';
import { header, readBody, send, sendJson, type Exchange } from './exchange.js';
import type { RouteContext } from './gateway.js';

/**
 * The C2PA Soft Binding Resolution API (OpenAPI: AdobeDocs cai-soft-binding-api,
 * `soft-binding.json`) under `/sbr/v1/`: find the manifests a soft binding or an asset's content
 * points to, and fetch a manifest store by its identifier. Every query is a Verification RPC made
 * as the HTTP caller (scope `verify`, standing in for the API's `fetch:manifests`): a caller tied
 * to a project finds only its project's assets.
 */

export const SBR_PREFIX = '/sbr/v1';
/** What the service answers to `/services/supportedAlgorithms`. */
export const SUPPORTED_ALGORITHMS = { watermarks: [] as Array<{ alg: string }>, fingerprints: [{ alg: 'io.iscc.v0' }] };

const MAX_QUERY_JSON_BYTES = 64 * 1024;

function query(exchange: Exchange): URLSearchParams {
  return new URL(exchange.req.url ?? '/', 'https://gateway').searchParams;
}

/** `maxResults` (default 10): an integer of at least 1; the service caps it at 100. */
function maxResultsOf(params: URLSearchParams): number {
  const raw = params.get('maxResults');
  if (raw === null || raw === '') return 0;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1) throw invalidArgument('maxResults must be an integer of at least 1', { details: { field: 'maxResults' } });
  return Math.min(Number(raw), 100);
}

/** The API's `c2pa.softBindingQueryResult`: similarity as an integer score 0–100. */
function queryResult(matches: readonly softBindingV1.SoftBindingMatch[]) {
  return { matches: matches.map((m) => ({ manifestId: m.manifestLabel, similarityScore: Math.round(m.similarity * 100) })) };
}

/** `GET /sbr/v1/services/supportedAlgorithms`: the algorithms queries may name. */
export async function sbrSupportedAlgorithms(exchange: Exchange): Promise<void> {
  sendJson(exchange, 200, SUPPORTED_ALGORITHMS);
}

/** `GET /sbr/v1/matches/byBinding?alg=&value=&maxResults=`. */
export async function sbrMatchesByBindingGet(exchange: Exchange, context: RouteContext): Promise<void> {
  const params = query(exchange);
  const clients = context.clientsFor(exchange.peer);
  const response = await clients.verification.matchSoftBinding(
    { alg: params.get('alg') ?? '', value: params.get('value') ?? '', maxResults: maxResultsOf(params) },
    callOptions(exchange),
  );
  sendJson(exchange, 200, queryResult(response.matches));
}

/** `POST /sbr/v1/matches/byBinding?maxResults=` with `{"alg": …, "value": …}`. */
export async function sbrMatchesByBindingPost(exchange: Exchange, context: RouteContext): Promise<void> {
  const clients = context.clientsFor(exchange.peer);
  const options = callOptions(exchange);
  const identity = await identifyOrRefuse(exchange, context.resolver, 'verify', () => clients.verification.matchSoftBinding({}, options));
  exchange.pendingAudit = { service: 'verification', operation: 'MatchSoftBinding', identity };
  const text = Buffer.from(await readBody(exchange, MAX_QUERY_JSON_BYTES, 'the JSON body')).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw invalidArgument(`the body is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('the body must be a JSON object with "alg" and "value"');
  const { alg, value } = body as Record<string, unknown>;
  if (typeof alg !== 'string' || typeof value !== 'string') throw invalidArgument('"alg" and "value" are required strings', { details: { field: typeof alg !== 'string' ? 'alg' : 'value' } });
  const maxResults = maxResultsOf(query(exchange));
  exchange.pendingAudit = undefined;
  const response = await clients.verification.matchSoftBinding({ alg, value, maxResults }, options);
  sendJson(exchange, 200, queryResult(response.matches));
}

/** `POST /sbr/v1/matches/byContent?maxResults=` with the asset as the body (`image/*`). */
export async function sbrMatchesByContent(exchange: Exchange, context: RouteContext): Promise<void> {
  const clients = context.clientsFor(exchange.peer);
  const options = callOptions(exchange);
  const identity = await identifyOrRefuse(exchange, context.resolver, 'verify', () => clients.verification.matchContent({}, options));
  exchange.pendingAudit = { service: 'verification', operation: 'MatchContent', identity };
  const params = query(exchange);
  const alg = params.get('alg');
  if (alg !== null && alg !== '' && !SUPPORTED_ALGORITHMS.fingerprints.some((f) => f.alg === alg)) {
    throw invalidArgument(`soft-binding algorithm "${alg}" is not supported; see /sbr/v1/services/supportedAlgorithms`, { details: { field: 'alg' } });
  }
  const contentType = (header(exchange.req, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (!contentType.startsWith('image/')) {
    // The API's 415: only images are fingerprinted here.
    sendJson(exchange, 415, { error: `media type "${contentType || 'none'}" cannot be matched by content; send an image (image/jpeg, image/png, …)`, request_id: exchange.requestId });
    return;
  }
  const maxResults = maxResultsOf(params);
  const asset = await readBody(exchange, identity.limits?.maxAssetBytes ?? MAX_ASSET_BYTES_CEILING, 'the asset');
  exchange.pendingAudit = undefined;
  const response = await clients.verification.matchContent({ asset, format: contentType === 'image/*' ? '' : contentType, maxResults }, options);
  sendJson(exchange, 200, queryResult(response.matches));
}

/**
 * `GET /sbr/v1/manifests/{manifestId}`: the manifest store (`application/c2pa`). The whole store
 * is returned whatever `returnActiveManifest` says: the mesh keeps stores as they were embedded.
 */
export async function sbrManifest(exchange: Exchange, context: RouteContext, manifestId: string): Promise<void> {
  if (manifestId === '' || manifestId.includes('/')) throw invalidArgument('the manifest identifier is missing or malformed', { details: { field: 'manifestId' } });
  const clients = context.clientsFor(exchange.peer);
  const response = await clients.verification.getManifestStore({ manifestLabel: manifestId }, callOptions(exchange));
  send(exchange, 200, response.manifestStore, { 'content-type': 'application/c2pa' });
}
