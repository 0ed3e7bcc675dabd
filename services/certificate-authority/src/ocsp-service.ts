import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { isMeshError } from '@c2pa-mesh/errors';
import { ocspCertIdFor, ocspErrorResponse, parseOcspRequest, type OcspRequest, type OcspResponder, type OcspSingleResponse } from '@c2pa-mesh/pki';
import { type CertificateRow, type Database, findCertificateBySerial } from '@c2pa-mesh/storage';
import type { Logger } from 'pino';
import { revocationStatusOf } from './revocation-status.js';
import type { StatusChange } from './status-events.js';

/** A CA this responder answers for, and the responder that signs for it. */
export interface OcspIssuer {
  /** certificates.id of the issuing CA. */
  certificateId: string;
  responder: OcspResponder;
}

/** Validity of a pre-signed response, for HTTP caching headers (RFC 5019 §6). */
export interface OcspCacheInfo {
  thisUpdate: Date;
  nextUpdate: Date;
  /** When the responder re-signs it (ms since the epoch): the most an HTTP cache should keep it. */
  refreshAt: number;
  /** Strong validator: SHA-1 of the response, quoted. */
  etag: string;
}

export interface OcspAnswer {
  /** DER OCSPResponse: successful, or an error status (malformedRequest, unauthorized, internalError). */
  der: Uint8Array;
  /** Present when the response is pre-signed and shared (a request without a nonce). */
  cache?: OcspCacheInfo;
}

export interface OcspService {
  /** Answers a DER OCSPRequest; never throws: bad input gets an OCSP error response. */
  respond(requestDer: Uint8Array): Promise<OcspAnswer>;
  /** A freshly signed response for one certificate, as CheckStatus returns and signers staple. */
  signedResponseFor(row: CertificateRow): Promise<{ der: Uint8Array; thisUpdate: Date; nextUpdate: Date } | undefined>;
  /** A certificate's status changed: drop what was pre-signed for it. */
  evict(change: StatusChange): void;
  /** Drop every pre-signed response. */
  clear(): void;
  /** Number of pre-signed responses held (for tests and metrics). */
  readonly size: number;
  /** Running totals since start, for metrics. */
  readonly counts: OcspCounts;
}

export interface OcspCounts {
  /** Requests answered by `respond` (the relying-party endpoint), whatever the answer. */
  requests: number;
  /** Of those, answered from a pre-signed response without signing. */
  cacheHits: number;
  /** Responses signed (for `respond` and for `signedResponseFor`). */
  signed: number;
}

export interface CreateOcspServiceOptions {
  db: Database;
  logger: Logger;
  issuers: OcspIssuer[];
  validitySeconds: number;
  refreshSeconds: number;
  maxEntries: number;
  /** False while status changes of other instances cannot be heard: then nothing is cached. */
  caching: () => boolean;
  clock?: () => number;
}

interface CachedResponse extends OcspCacheInfo {
  der: Uint8Array;
  /** `<issuerId>:<serial>` of every certificate the response speaks for. */
  subjects: string[];
}

const MALFORMED = ocspErrorResponse('malformedRequest');
const UNAUTHORIZED = ocspErrorResponse('unauthorized');
const INTERNAL_ERROR = ocspErrorResponse('internalError');

const subjectKey = (issuerId: string, serialNumberHex: string) => `${issuerId}:${serialNumberHex}`;

/**
 * The OCSP responder (RFC 6960) with the RFC 5019 lightweight profile's caching: a request
 * without a nonce is answered from a response signed in advance and shared by every client
 * asking the same question, until it is due for refresh or the certificate's status changes.
 * The cache is keyed by the request bytes, so a hit costs a map lookup and no parsing at all.
 * Requests with a nonce get a response signed for them, echoing the nonce.
 */
export function createOcspService(options: CreateOcspServiceOptions): OcspService {
  const { db, logger, issuers } = options;
  const clock = options.clock ?? Date.now;
  /** subject → request keys whose cached response names it. */
  const bySubject = new Map<string, Set<string>>();
  // Whatever leaves the cache (replaced, forgotten, evicted as the least recently used) leaves
  // the subject index with it.
  const cache = new LRUCache<string, CachedResponse>({
    max: options.maxEntries,
    dispose: (entry, key) => {
      for (const subject of entry.subjects) {
        const keys = bySubject.get(subject);
        keys?.delete(key);
        if (keys?.size === 0) bySubject.delete(subject);
      }
    },
  });
  /** In-flight signing per request key: a burst of identical misses signs once. */
  const pending = new Map<string, Promise<OcspAnswer>>();
  /** Bumped by every eviction; a response built across one is not cached (it may be stale). */
  let epoch = 0;
  const counts: OcspCounts = { requests: 0, cacheHits: 0, signed: 0 };
  const build = (responder: OcspResponder, input: Parameters<OcspResponder['buildResponse']>[0]) => {
    counts.signed++;
    return responder.buildResponse(input);
  };

  function forget(key: string): void {
    cache.delete(key);
  }

  function store(key: string, entry: CachedResponse): void {
    forget(key);
    cache.set(key, entry);
    for (const subject of entry.subjects) {
      let keys = bySubject.get(subject);
      if (!keys) bySubject.set(subject, (keys = new Set()));
      keys.add(key);
    }
  }

  function issuerFor(request: OcspRequest): OcspIssuer | undefined {
    const [first] = request.certIds;
    const issuer = issuers.find((candidate) => candidate.responder.isForIssuer(first));
    // One response is signed by one responder: every CertID must name the same CA.
    return issuer && request.certIds.every((id) => issuer.responder.isForIssuer(id)) ? issuer : undefined;
  }

  function validity(): { thisUpdate: Date; nextUpdate: Date } {
    // Whole seconds: GeneralizedTime in the response carries no fraction.
    const now = Math.floor(clock() / 1000) * 1000;
    return { thisUpdate: new Date(now), nextUpdate: new Date(now + options.validitySeconds * 1000) };
  }

  async function statuses(issuer: OcspIssuer, request: OcspRequest): Promise<{ responses: OcspSingleResponse[]; allKnown: boolean }> {
    let allKnown = true;
    const responses = await Promise.all(
      request.certIds.map(async (certId): Promise<OcspSingleResponse> => {
        const row = await findCertificateBySerial(db, issuer.certificateId, certId.serialNumberHex);
        if (!row) {
          allKnown = false;
          return { certId, status: { status: 'unknown' } };
        }
        return { certId, status: revocationStatusOf(row) };
      }),
    );
    return { responses, allKnown };
  }

  async function presign(key: string, issuer: OcspIssuer, request: OcspRequest): Promise<OcspAnswer> {
    const startEpoch = epoch;
    const { responses, allKnown } = await statuses(issuer, request);
    const { thisUpdate, nextUpdate } = validity();
    const der = await build(issuer.responder, { responses, thisUpdate, nextUpdate, producedAt: thisUpdate });
    const info: OcspCacheInfo = {
      thisUpdate,
      nextUpdate,
      refreshAt: Math.min(thisUpdate.getTime() + options.refreshSeconds * 1000, nextUpdate.getTime()),
      etag: `"${createHash('sha1').update(der).digest('base64url')}"`,
    };
    // Unknown serials are not cached (the certificate may be issued a moment later), nor is a
    // response whose status was read while a change went through.
    if (!allKnown || !options.caching() || epoch !== startEpoch) return { der };
    store(key, { ...info, der, subjects: request.certIds.map((id) => subjectKey(issuer.certificateId, id.serialNumberHex)) });
    return { der, cache: info };
  }

  async function respond(requestDer: Uint8Array): Promise<OcspAnswer> {
    const key = Buffer.from(requestDer.buffer, requestDer.byteOffset, requestDer.byteLength).toString('base64');
    counts.requests++;
    const cached = cache.get(key);
    if (cached && clock() < cached.refreshAt) {
      counts.cacheHits++;
      return { der: cached.der, cache: cached };
    }

    let request: OcspRequest;
    try {
      request = parseOcspRequest(requestDer);
    } catch (err) {
      if (isMeshError(err) && err.code === 'invalid_argument') return { der: MALFORMED };
      logger.error({ err }, 'OCSP request could not be read');
      return { der: INTERNAL_ERROR };
    }
    const issuer = issuerFor(request);
    // RFC 6960 §2.3: a responder asked about certificates of a CA it does not serve.
    if (!issuer) return { der: UNAUTHORIZED };
    try {
      if (request.nonce) {
        const { responses } = await statuses(issuer, request);
        const { thisUpdate, nextUpdate } = validity();
        return { der: await build(issuer.responder, { responses, nonce: request.nonce, thisUpdate, nextUpdate, producedAt: thisUpdate }) };
      }
      let inFlight = pending.get(key);
      if (!inFlight) {
        const signing = presign(key, issuer, request).finally(() => {
          if (pending.get(key) === signing) pending.delete(key);
        });
        pending.set(key, (inFlight = signing));
      }
      return await inFlight;
    } catch (err) {
      logger.error({ err }, 'OCSP response could not be produced');
      return { der: INTERNAL_ERROR };
    }
  }

  async function signedResponseFor(row: CertificateRow) {
    const issuer = issuers.find((candidate) => candidate.certificateId === row.issuer_id);
    if (!issuer) return undefined;
    const certId = ocspCertIdFor(row.certificate_der, issuer.responder.issuerCertificateDer, 'sha1');
    const { thisUpdate, nextUpdate } = validity();
    const der = await build(issuer.responder, {
      responses: [{ certId, status: revocationStatusOf(row) }],
      thisUpdate,
      nextUpdate,
      producedAt: thisUpdate,
    });
    return { der, thisUpdate, nextUpdate };
  }

  return {
    respond,
    signedResponseFor,
    evict(change) {
      epoch++;
      // Requests arriving from now on must not join a signing that read the old status.
      pending.clear();
      const subject = subjectKey(change.issuerId, change.serialNumberHex.toLowerCase());
      for (const key of [...(bySubject.get(subject) ?? [])]) forget(key);
    },
    clear() {
      epoch++;
      pending.clear();
      cache.clear();
      bySubject.clear();
    },
    get size() {
      return cache.size;
    },
    counts,
  };
}
