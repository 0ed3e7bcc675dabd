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

/**
 * `hintAlg` and `hintValue` of `/matches/byContent`: a soft binding the caller read from the asset
 * itself (a watermark or a fingerprint it computed), both or neither, of an algorithm served here.
 */
function hintOf(params: URLSearchParams): { alg: string; value: string } | undefined {
  const alg = params.get('hintAlg') ?? '';
  const value = params.get('hintValue') ?? '';
  if (alg === '' && value === '') return undefined;
  if (alg === '' || value === '') throw invalidArgument('hintAlg and hintValue go together: name the algorithm and give its value', { details: { field: alg === '' ? 'hintAlg' : 'hintValue' } });
  if (!SUPPORTED_ALGORITHMS.fingerprints.some((f) => f.alg === alg)) {
    throw invalidArgument(`hint algorithm "${alg}" is not supported; see /sbr/v1/services/supportedAlgorithms`, { details: { field: 'hintAlg' } });
  }
  return { alg, value };
}

/** Matches found two ways, each manifest once with its best similarity, best first. */
function mergedMatches(lists: ReadonlyArray<readonly softBindingV1.SoftBindingMatch[]>, maxResults: number): softBindingV1.SoftBindingMatch[] {
  const best = new Map<string, softBindingV1.SoftBindingMatch>();
  for (const match of lists.flat()) {
    const seen = best.get(match.manifestLabel);
    if (seen === undefined || match.similarity > seen.similarity) best.set(match.manifestLabel, match);
  }
  return [...best.values()].sort((a, b) => b.similarity - a.similarity).slice(0, maxResults === 0 ? 10 : maxResults);
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
  const hint = hintOf(params);
  const asset = await readBody(exchange, identity.limits?.maxAssetBytes ?? MAX_ASSET_BYTES_CEILING, 'the asset');
  exchange.pendingAudit = undefined;
  const [byContent, byHint] = await Promise.all([
    clients.verification.matchContent({ asset, format: contentType === 'image/*' ? '' : contentType, maxResults }, options),
    hint === undefined ? undefined : clients.verification.matchSoftBinding({ ...hint, maxResults }, options),
  ]);
  sendJson(exchange, 200, queryResult(mergedMatches([byContent.matches, byHint?.matches ?? []], maxResults)));
}

/**
 * `GET /sbr/v1/manifests/{manifestId}?returnActiveManifest=`: the manifest store
 * (`application/c2pa`) as it was embedded, or with `returnActiveManifest=true` a store of the
 * active manifest alone (its ingredients' manifests left out).
 */
export async function sbrManifest(exchange: Exchange, context: RouteContext, manifestId: string): Promise<void> {
  if (manifestId === '' || manifestId.includes('/')) throw invalidArgument('the manifest identifier is missing or malformed', { details: { field: 'manifestId' } });
  const activeOnly = query(exchange).get('returnActiveManifest') ?? 'false';
  if (activeOnly !== 'true' && activeOnly !== 'false') throw invalidArgument('returnActiveManifest is true or false', { details: { field: 'returnActiveManifest' } });
  const clients = context.clientsFor(exchange.peer);
  const response = await clients.verification.getManifestStore({ manifestLabel: manifestId }, callOptions(exchange));
  send(exchange, 200, activeOnly === 'true' ? activeManifestOnly(response.manifestStore) : response.manifestStore, { 'content-type': 'application/c2pa' });
}

interface Box {
  type: string;
  start: number;
  /** Where its content starts (after an 8- or 16-byte header). */
  content: number;
  end: number;
}

/** The ISO BMFF boxes (JUMBF is made of them) of `bytes[start, end)`. */
function boxes(bytes: Uint8Array, start: number, end: number): Box[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Box[] = [];
  for (let at = start; at + 8 <= end; ) {
    let size = view.getUint32(at);
    let header = 8;
    if (size === 1 && at + 16 <= end) {
      size = Number(view.getBigUint64(at + 8));
      header = 16;
    } else if (size === 0) size = end - at;
    if (size < header || at + size > end) throw new Error('a JUMBF box runs past its parent');
    out.push({ type: Buffer.from(bytes.subarray(at + 4, at + 8)).toString('latin1'), start: at, content: at + header, end: at + size });
    at += size;
  }
  return out;
}

/**
 * The store with only its active manifest: the `c2pa` superbox keeps its description box and its
 * last manifest superbox (the active one, C2PA 2.x §11.1.4.1). A store that is not such a
 * superbox is returned as it is.
 */
export function activeManifestOnly(store: Uint8Array): Uint8Array {
  const [top] = boxes(store, 0, store.length);
  if (top === undefined || top.type !== 'jumb') return store;
  const children = boxes(store, top.content, top.end);
  const manifests = children.filter((b) => b.type === 'jumb');
  if (children[0]?.type !== 'jumd' || manifests.length <= 1) return store;
  const description = store.subarray(children[0].start, children[0].end);
  const active = store.subarray(manifests.at(-1)!.start, manifests.at(-1)!.end);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + description.length + active.length);
  header.write('jumb', 4, 'latin1');
  return Buffer.concat([header, description, active]);
}
