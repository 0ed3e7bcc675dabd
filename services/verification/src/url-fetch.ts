import { createHash } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { rootCertificates } from 'node:tls';
import type { LookupAddress } from 'node:dns';
import { Client } from 'undici';
import { MeshError, failedPrecondition, invalidArgument, resourceExhausted } from '@c2pa-mesh/errors';
import { AddressPolicy } from '@c2pa-mesh/address-policy';
import type { UrlFetchSettings } from './settings.js';

/** Resolves a host name to its addresses (the system resolver unless a test supplies one). */
export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>;

export interface FetchAssetOptions {
  url: string;
  /** Largest body accepted, in bytes: checked against Content-Length and while reading. */
  maxBytes: number;
  signal?: AbortSignal;
  /** Time limit for this fetch, in milliseconds; absent: the fetcher's setting. */
  timeoutMs?: number;
}

export interface FetchedAsset {
  bytes: Uint8Array;
  /** The URL the body came from, after redirects. */
  finalUrl: string;
  /** The response's media type without parameters, lower case; undefined when absent. */
  contentType?: string;
}

/** What `hashAsset` learned of a file it read without keeping it. */
export interface HashedAsset {
  /** SHA-256 of the body, lowercase hex. */
  sha256: string;
  sizeBytes: number;
  finalUrl: string;
  contentType?: string;
}

/** What `streamAsset` learned of a file it handed on piece by piece. */
export interface StreamedAsset {
  sizeBytes: number;
  finalUrl: string;
  contentType?: string;
}

export interface UrlFetcher {
  fetchAsset(options: FetchAssetOptions): Promise<FetchedAsset>;
  /** The same fetch, but the body is hashed as it arrives and never held whole: for large files. */
  hashAsset(options: FetchAssetOptions): Promise<HashedAsset>;
  /**
   * The same fetch, each piece of the body handed to `onChunk` as it arrives and awaited before
   * the next is read (a slow consumer slows the download, nothing piles up): for large files
   * written to disk. The size limit and the time limit cover the consumer's work too.
   */
  streamAsset(options: FetchAssetOptions & { onChunk(chunk: Uint8Array): Promise<void> | void }): Promise<StreamedAsset>;
}

export interface UrlFetchTls {
  /** PEM certificates trusted for https:// besides the system's roots (a closed network's own CA). */
  extraTrustAnchorsPem?: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'c2pa-mesh-verifier/0.1 (+C2PA Content Credentials validation)';

const systemResolver: ResolveHost = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

type ResponseBody = AsyncIterable<Uint8Array> & { destroy(): unknown; on(event: 'error', listener: () => void): unknown };

/**
 * Drops a response body unread. undici's body reports an early destroy as an 'error' event; with
 * no listener that would be an uncaught exception, so one that ignores it is added first.
 */
function discard(body: ResponseBody): void {
  body.on('error', () => undefined);
  body.destroy();
}

/**
 * Fetches what a caller names for VerifyUrl without letting the URL reach inside our network
 * (SSRF): http(s) only (plain http only when the operator allows it), the host resolved once and
 * every address checked by the AddressPolicy, the connection pinned to the vetted address (no DNS
 * rebinding between check and connect), redirects followed by hand and each one checked the same
 * way, the size checked against Content-Length before reading and counted while reading, and one
 * time limit over all of it. No compression is negotiated, so no decompression bomb either.
 */
export function createUrlFetcher(settings: UrlFetchSettings, resolveHost: ResolveHost = systemResolver, tls: UrlFetchTls = {}): UrlFetcher {
  const policy = new AddressPolicy(settings.allowHosts);
  // Setting `ca` replaces the default roots, so the system's go in with the extra ones.
  const ca = tls.extraTrustAnchorsPem === undefined ? undefined : [...rootCertificates, tls.extraTrustAnchorsPem];

  function parseUrl(raw: string, base?: URL): URL {
    let url: URL;
    try {
      url = new URL(raw, base);
    } catch (cause) {
      throw invalidArgument(`${base ? 'the redirect target' : 'url'} "${raw.slice(0, 200)}" is not an absolute URL`, { cause, details: { field: 'url' } });
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && settings.allowHttp)) {
      const allowed = settings.allowHttp ? 'http:// and https://' : 'https://';
      throw invalidArgument(`${base ? 'a redirect leads to' : 'url'} ${url.protocol}// ${base ? 'which is not fetched' : 'is not supported'}; only ${allowed} URLs are fetched`, {
        details: { field: 'url' },
      });
    }
    if (url.username !== '' || url.password !== '') {
      throw invalidArgument('URLs with credentials (user:password@) are not fetched', { details: { field: 'url' } });
    }
    return url;
  }

  /** The one address this hop connects to, after checking every address the host has. */
  async function vettedAddress(url: URL): Promise<LookupAddress> {
    const hostname = bareHost(url);
    let addresses: LookupAddress[];
    if (/^[\d.]+$/.test(hostname) || hostname.includes(':')) {
      addresses = [{ address: hostname, family: hostname.includes(':') ? 6 : 4 }];
    } else {
      try {
        addresses = await resolveHost(hostname);
      } catch (cause) {
        throw failedPrecondition(`the host ${hostname} could not be resolved`, { cause });
      }
      if (addresses.length === 0) throw failedPrecondition(`the host ${hostname} has no addresses`);
    }
    // One refused address refuses the host: an attacker's DNS may mix public and internal ones.
    for (const candidate of addresses) {
      const verdict = policy.check(hostname, candidate.address);
      if (!verdict.allowed) {
        throw invalidArgument(
          `${url.host} ${candidate.address === hostname ? 'is' : `resolves to ${candidate.address},`} ${verdict.reason}; VerifyUrl only fetches from public addresses`,
          { details: { field: 'url', address: candidate.address } },
        );
      }
    }
    return addresses[0];
  }

  /** One request to one vetted address; the response is returned unread. */
  async function requestOnce(url: URL, pinned: LookupAddress, signal: AbortSignal, remainingMs: number) {
    const client = new Client(url.origin, {
      connect: {
        timeout: Math.max(1, Math.min(remainingMs, 10_000)),
        ...(ca === undefined ? {} : { ca }),
        // Node's connect asks us for the address; we answer with the one we vetted, never
        // resolving again. (A literal IP host skips the lookup and was vetted as it is.)
        lookup: (_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
          if (options?.all) callback(null, [pinned]);
          else callback(null, pinned.address, pinned.family);
        },
      } as never,
      headersTimeout: remainingMs,
      bodyTimeout: remainingMs,
      pipelining: 0,
    });
    try {
      const response = await client.request({
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { 'user-agent': USER_AGENT, accept: '*/*', 'accept-encoding': 'identity' },
        signal,
      });
      return { response, close: () => client.destroy().catch(() => undefined) };
    } catch (error) {
      await client.destroy().catch(() => undefined);
      throw error;
    }
  }

  /** Hands every chunk to `take` (awaited), refusing the body as soon as it passes `maxBytes`. */
  async function readCapped(body: ResponseBody, maxBytes: number, url: URL, take: (chunk: Uint8Array) => Promise<void> | void): Promise<number> {
    let total = 0;
    for await (const chunk of body) {
      total += chunk.byteLength;
      if (total > maxBytes) {
        discard(body);
        throw resourceExhausted(`${url.host} sent more than ${maxBytes} bytes, the largest asset this caller may verify`, {
          details: { maxAssetBytes: maxBytes },
        });
      }
      const taken = take(chunk);
      if (taken !== undefined) await taken;
    }
    return total;
  }

  async function fetchBody<T>(options: FetchAssetOptions, consume: (body: ResponseBody, url: URL) => Promise<T>): Promise<{ result: T; finalUrl: string; contentType?: string }> {
    const timeoutMs = options.timeoutMs ?? settings.timeoutMs;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    const startedAt = Date.now();
    let url = parseUrl(options.url);
    try {
      for (let redirects = 0; ; redirects++) {
        const pinned = await vettedAddress(url);
        signal.throwIfAborted();
        const { response, close } = await requestOnce(url, pinned, signal, timeoutMs - (Date.now() - startedAt));
        try {
          const { statusCode, headers, body } = response;
          if (REDIRECT_STATUSES.has(statusCode)) {
            await body.dump({ limit: 64 * 1024 }).catch(() => undefined);
            const location = headers.location;
            if (typeof location !== 'string' || location === '') {
              throw failedPrecondition(`${url.host} answered HTTP ${statusCode} without a Location to follow`);
            }
            if (redirects >= settings.maxRedirects) {
              throw failedPrecondition(`${options.url.slice(0, 200)} redirects more than ${settings.maxRedirects} times; not followed further`);
            }
            url = parseUrl(location, url);
            continue;
          }
          if (statusCode < 200 || statusCode > 299) {
            discard(body);
            throw failedPrecondition(`${url.host} answered HTTP ${statusCode} for ${url.pathname.slice(0, 200)}; nothing to verify`, {
              details: { httpStatus: statusCode },
            });
          }
          const declared = Number(headers['content-length']);
          if (Number.isFinite(declared) && declared > options.maxBytes) {
            discard(body);
            throw resourceExhausted(`${url.host} announces ${declared} bytes, more than the ${options.maxBytes} bytes this caller may verify`, {
              details: { contentLength: declared, maxAssetBytes: options.maxBytes },
            });
          }
          const result = await consume(body, url);
          const type = headers['content-type'];
          const contentType = typeof type === 'string' ? type.split(';')[0].trim().toLowerCase() || undefined : undefined;
          return { result, finalUrl: url.href, ...(contentType !== undefined ? { contentType } : {}) };
        } finally {
          await close();
        }
      }
    } catch (error) {
      if (error instanceof MeshError) throw error;
      if (deadline.aborted) {
        throw new MeshError('deadline_exceeded', `fetching ${options.url.slice(0, 200)} took longer than ${timeoutMs} ms`, { cause: error });
      }
      if (options.signal?.aborted) throw options.signal.reason;
      throw failedPrecondition(`${url.host} could not be fetched: ${describeNetworkError(error)}`, { cause: error });
    }
  }

  return {
    async fetchAsset(options) {
      const chunks: Uint8Array[] = [];
      const { result: size, ...rest } = await fetchBody(options, (body, url) => readCapped(body, options.maxBytes, url, (chunk) => void chunks.push(chunk)));
      return { bytes: new Uint8Array(Buffer.concat(chunks, size)), ...rest };
    },
    async hashAsset(options) {
      const hash = createHash('sha256');
      const { result: sizeBytes, ...rest } = await fetchBody(options, (body, url) => readCapped(body, options.maxBytes, url, (chunk) => void hash.update(chunk)));
      return { sha256: hash.digest('hex'), sizeBytes, ...rest };
    },
    async streamAsset(options) {
      // The consumer's own failure (a full disk) is its own, not the host's.
      let consumerFailed: { error: unknown } | undefined;
      const take = async (chunk: Uint8Array) => {
        try {
          await options.onChunk(chunk);
        } catch (error) {
          consumerFailed = { error };
          throw error;
        }
      };
      try {
        const { result: sizeBytes, ...rest } = await fetchBody(options, (body, url) => readCapped(body, options.maxBytes, url, take));
        return { sizeBytes, ...rest };
      } catch (error) {
        throw consumerFailed === undefined ? error : consumerFailed.error;
      }
    },
  };
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ETIMEDOUT: 'connection timed out',
    UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
    UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
    UND_ERR_BODY_TIMEOUT: 'the body stalled',
    UND_ERR_SOCKET: 'the connection broke',
    CERT_HAS_EXPIRED: 'its TLS certificate has expired',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate could not be verified',
    ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate does not name this host',
  };
  if (code !== undefined && known[code] !== undefined) return known[code];
  return error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200);
}
