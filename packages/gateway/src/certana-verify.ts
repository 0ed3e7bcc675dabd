import { ANONYMOUS_REQUESTS_PER_MINUTE, MAX_ASSET_BYTES_CEILING } from '@c2pa-mesh/auth';
import type { CallerClients } from '@c2pa-mesh/clients';
import { invalidArgument, isMeshError, unauthenticated } from '@c2pa-mesh/errors';
import { verificationV1, type softBindingV1 } from '@c2pa-mesh/proto';
import { Code, ConnectError, type CallOptions } from '@connectrpc/connect';
import { callOptions, identifyOrRefuse } from './caller.js';
import { bareHash, certanaCaller, dateParam, envelope, intParam, numberedPage, queryOf } from './certana-caller.js';
import { commitmentOf } from './certana-blockchain.js';
import { imageFormatOf } from './certana-assets.js';
import { header, type Exchange } from './exchange.js';
import type { RouteContext } from './gateway.js';
import { readMultipartForm, type UploadedFile } from './multipart.js';
import { anonymousIdentity } from './verimago.js';

/**
 * Certana's verification under `/certana/v1/verify/`, answered by the mesh's C2PA validation,
 * its fingerprints (soft bindings) and its transparency log. How the answer is made:
 *
 * - `verdict`: `authentic` when the manifest validates and its signer is trusted (TRUSTED);
 *   `forged` when a manifest is present but fails validation (INVALID: the file or the manifest
 *   was changed after signing); `unknown` when the signature is intact but its signer is not
 *   trusted (VALID), or when the file carries no Content Credentials at all.
 * - `confidence`: 1.0 for `authentic` and `forged`, which rest on cryptographic checks, not on
 *   a score; 0.0 for `unknown`. A stripped copy's resemblance to a signed asset is not proof of
 *   anything about the copy: it is reported in `fingerprint`, not as confidence.
 * - `fingerprint`: the registered assets whose fingerprint matches the file's content (the
 *   Verification service's soft-binding matches; for a file with its credentials intact, a
 *   MatchContent query), `distance` = 1 − similarity.
 * - `blockchain`: the claim signature's entry in the transparency log; `tx_hash` is its RFC 6962
 *   leaf hash, `on_chain` true once a witness has cosigned a checkpoint covering it.
 * - `watermark`: the mesh embeds and detects no watermark: every track false, payload null.
 * - `tamper_map`: the mesh makes no pixel-level map: null.
 */

const MAX_FIELD_BYTES = 1024;
const ANONYMOUS_MAX_BYTES = 20 * 1024 * 1024;
const MAX_BATCH_FILES = 20;
const MAX_BATCH_FILE_BYTES = 25 * 1024 * 1024;

type Verdict = 'authentic' | 'forged' | 'unknown';
const { ValidationState } = verificationV1;

const VERDICT_OF_STATE: Record<string, Verdict> = { TRUSTED: 'authentic', INVALID: 'forged', VALID: 'unknown' };
const STATE_OF_VERDICT: Record<Verdict, string> = { authentic: 'TRUSTED', forged: 'INVALID', unknown: 'VALID' };
const VERIFICATION_STATE: Record<number, string> = { [ValidationState.TRUSTED]: 'TRUSTED', [ValidationState.INVALID]: 'INVALID', [ValidationState.VALID]: 'VALID' };

function confidenceOf(verdict: Verdict): number {
  return verdict === 'unknown' ? 0 : 1;
}

const DETAILS: Record<Verdict, string> = {
  authentic: 'The Content Credentials validate and their signer is trusted',
  forged: 'The file carries Content Credentials that fail validation: it or its manifest changed after signing',
  unknown: 'The authenticity cannot be established from this file',
};

function fingerprintOf(matches: readonly softBindingV1.SoftBindingMatch[]) {
  return {
    similarity_score: matches.length > 0 ? matches[0].similarity : null,
    match_count: matches.length,
    top_matches: matches.slice(0, 10).map((m) => ({ asset_id: m.assetId, similarity: m.similarity, distance: 1 - m.similarity, manifest_label: m.manifestLabel })),
  };
}

interface Verifying {
  clients: CallerClients;
  options: CallOptions;
}

/** The matches of a file whose credentials are intact (Verify lists them only for stripped files). */
async function contentMatches(via: Verifying, file: UploadedFile, format: string): Promise<softBindingV1.SoftBindingMatch[]> {
  return (await via.clients.verification.matchContent({ asset: file.bytes, format, maxResults: 10 }, via.options)).matches;
}

/** One file's answer in Certana's shape, from a Verify result (undefined: no Content Credentials and no match). */
async function certanaResult(via: Verifying, file: UploadedFile, format: string, result: verificationV1.VerifyResponse | undefined) {
  const state = result ? VERIFICATION_STATE[result.validationState] : undefined;
  const verdict: Verdict = state ? VERDICT_OF_STATE[state] : 'unknown';
  const matches = result && result.softBindingMatches.length > 0 ? result.softBindingMatches : await contentMatches(via, file, format);
  const logged = result?.inTransparencyLog ? await commitmentOf(via.clients, via.options, result.logIndex) : undefined;
  const hasManifest = state !== undefined;
  return {
    is_authentic: verdict === 'authentic',
    confidence: confidenceOf(verdict),
    verdict,
    details: hasManifest ? DETAILS[verdict] : matches.length > 0 ? 'No Content Credentials in this file; its content matches signed assets (see fingerprint)' : 'No Content Credentials in this file and no signed asset matches it',
    watermark: { track_a_detected: false, track_b_detected: false, track_c_detected: false, payload: null },
    fingerprint: fingerprintOf(matches),
    blockchain: {
      commitment_found: logged !== undefined,
      tx_hash: logged?.txHash ?? null,
      signature_valid: hasManifest ? Boolean(result?.valid) : null,
      on_chain: logged ? logged.cosigned : false,
    },
    metadata: { exif_intact: null, modifications: result ? result.errors.map((e) => e.code) : [] },
    tamper_map: null,
    // Beyond Certana's shape: what the mesh found.
    validation_state: state ?? null,
    signer: result?.signer || null,
    asset_id: result?.assetId || null,
    content_hash: result ? bareHash(result.assetSha256) : null,
    file_name: file.filename || null,
  };
}

/** Verify as the caller when it sent a credential, else as an anonymous caller limited per address. */
async function verifier(exchange: Exchange, context: RouteContext): Promise<Verifying & { maxBytes: number }> {
  if (header(exchange.req, 'authorization') !== undefined || header(exchange.req, 'x-api-key') !== undefined) {
    const caller = await certanaCaller(exchange, context);
    const identity = await identifyOrRefuse(exchange, context.resolver, 'verify', () => caller.clients.verification.verify({}, caller.options), caller.projectId);
    return { clients: caller.clients, options: caller.options, maxBytes: identity.limits?.maxAssetBytes ?? MAX_ASSET_BYTES_CEILING };
  }
  // Certana verifies without credentials: an anonymous caller that may only verify, with its own
  // per-address limit (not shared with the public lookups by hash) and a smaller file size.
  const identity = { ...anonymousIdentity(exchange.peer.clientIp, ANONYMOUS_REQUESTS_PER_MINUTE), id: `certana-anonymous:${exchange.peer.clientIp || 'unknown'}` };
  identity.limits = { maxAssetBytes: ANONYMOUS_MAX_BYTES, requestsPerMinute: ANONYMOUS_REQUESTS_PER_MINUTE };
  const { signal, onHeader } = callOptions(exchange);
  return { clients: context.clientsFor({ ...exchange.peer, presetIdentity: identity }), options: { signal, onHeader }, maxBytes: ANONYMOUS_MAX_BYTES };
}

function isNotFound(error: unknown): boolean {
  return (error instanceof ConnectError && error.code === Code.NotFound) || (isMeshError(error) && error.code === 'not_found');
}

/** `POST verify/` multipart: file, include_tamper_map. */
async function verify(exchange: Exchange, context: RouteContext): Promise<void> {
  const via = await verifier(exchange, context);
  const form = await readMultipartForm(exchange, { maxFileBytes: via.maxBytes, maxFieldBytes: MAX_FIELD_BYTES, fileFields: ['file'] });
  const file = form.files.get('file');
  if (!file) throw invalidArgument('missing field "file": the image to verify', { details: { field: 'file' } });
  const format = imageFormatOf(file);
  let result: verificationV1.VerifyResponse | undefined;
  try {
    result = await via.clients.verification.verify({ asset: file.bytes, format }, via.options);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  envelope(exchange, 200, await certanaResult(via, file, format, result), 'Verification completed');
}

/** `POST verify/batch` multipart: files=… (several), include_tamper_map. */
async function verifyBatch(exchange: Exchange, context: RouteContext): Promise<void> {
  const via = await verifier(exchange, context);
  // A batch holds its files in memory together: each is held to a smaller size than alone.
  const maxFileBytes = Math.min(via.maxBytes, MAX_BATCH_FILE_BYTES);
  const form = await readMultipartForm(exchange, { maxFileBytes, maxFieldBytes: MAX_FIELD_BYTES, fileFields: ['files'], repeatedFiles: MAX_BATCH_FILES });
  const files = form.fileList;
  if (files.length === 0) throw invalidArgument('missing field "files": the images to verify, one part each', { details: { field: 'files' } });
  const started = performance.now();
  const formats = files.map(imageFormatOf);
  const batch = await via.clients.verification.verifyBatch({ items: files.map((f, i) => ({ name: f.filename || `file-${i + 1}`, asset: f.bytes, format: formats[i] })) }, via.options);
  const results = await Promise.all(
    batch.results.map(async (item, i) => {
      if (item.outcome.case === 'result') return certanaResult(via, files[i], formats[i], item.outcome.value);
      if (item.outcome.case === 'error' && item.outcome.value.code === 'not_found') return certanaResult(via, files[i], formats[i], undefined);
      return { verdict: 'unknown', error: { error_code: item.outcome.value?.code ?? 'PROCESSING_FAILED', detail: item.outcome.value?.message ?? '' }, file_name: files[i].filename || null };
    }),
  );
  const failed = results.filter((r) => 'error' in r).length;
  envelope(
    exchange,
    200,
    { results, total: results.length, successful: results.length - failed, failed, processing_time_ms: Math.round(performance.now() - started) },
    'Batch verification completed',
  );
}

/** `GET verify/history?page=&page_size=&verdict=&start_date=&end_date=`: the caller's project's verifications. */
async function history(exchange: Exchange, context: RouteContext): Promise<void> {
  if (header(exchange.req, 'authorization') === undefined && header(exchange.req, 'x-api-key') === undefined) {
    throw unauthenticated('the verification history needs "Authorization: Bearer <token>" or X-API-Key');
  }
  const caller = await certanaCaller(exchange, context);
  const params = queryOf(exchange);
  const page = intParam(params, 'page', 1, 1, 100_000);
  const pageSize = intParam(params, 'page_size', 20, 1, 100);
  const verdict = params.get('verdict') || '';
  if (verdict !== '' && !(verdict in STATE_OF_VERDICT)) throw invalidArgument('verdict must be authentic, forged or unknown', { details: { field: 'verdict' } });
  const request = {
    projectId: caller.projectId,
    validationState: verdict === '' ? ValidationState.UNSPECIFIED : ValidationState[STATE_OF_VERDICT[verdict as Verdict] as 'TRUSTED'],
    since: dateParam(params, 'start_date'),
    until: dateParam(params, 'end_date'),
  };
  const fetchPage = async (size: number, pageToken: string) => {
    const answer = await caller.clients.verification.listVerifications({ ...request, pageSize: size, pageToken }, caller.options);
    return { items: answer.verifications, nextPageToken: answer.nextPageToken };
  };
  const { items, nextPageToken } = await numberedPage(fetchPage, page, pageSize);
  // The history keeps no count: the rest is read to count it.
  let total = (page - 1) * pageSize + items.length;
  for (let token = nextPageToken; token !== ''; ) {
    const rest = await fetchPage(500, token);
    total += rest.items.length;
    token = rest.nextPageToken;
  }
  const views = await Promise.all(
    items.map(async (record) => {
      const state = VERIFICATION_STATE[record.validationState] ?? 'INVALID';
      const lookup = await caller.clients.registry.lookupAssetByHash({ contentHash: record.assetSha256 }, caller.options);
      // Only the caller's own assets are named: another tenant's asset is none of its business.
      const mine = lookup.found && (caller.projectId === '' || lookup.asset!.projectId === caller.projectId) ? lookup.asset! : undefined;
      const v = VERDICT_OF_STATE[state];
      return {
        id: record.verificationId,
        verified_at: record.verifiedAt,
        verdict: v,
        confidence: confidenceOf(v),
        asset_id: mine?.assetId ?? null,
        matched_asset: mine ? { id: mine.assetId, title: mine.title || null, content_hash: bareHash(mine.assetSha256), created_at: mine.createdAt } : null,
        content_hash: bareHash(record.assetSha256),
        signer: record.signer || null,
      };
    }),
  );
  envelope(exchange, 200, { items: views, total, page, page_size: pageSize, pages: Math.ceil(total / pageSize) }, 'Verification history retrieved');
}

export const VERIFY_ROUTES = {
  'POST verify/': verify,
  'POST verify/batch': verifyBatch,
  'GET verify/history': history,
};
