import type { Identity } from '@c2pa-mesh/auth';
import { MeshError, failedPrecondition, invalidArgument, isMeshError } from '@c2pa-mesh/errors';

/**
 * What the gateway needs of a URL fetcher. The mesh hands it the verification service's fetcher;
 * the gateway names only the shape it calls, so that it does not depend on a service.
 */
export interface FileUrlFetcher {
  fetchAsset(options: { url: string; maxBytes: number; signal?: AbortSignal }): Promise<{ bytes: Uint8Array }>;
  /** The same fetch with the body hashed as it arrives, never held whole (Verimago's verify/url). */
  hashAsset?(options: { url: string; maxBytes: number; signal?: AbortSignal; timeoutMs?: number }): Promise<{ sha256: string; sizeBytes: number; finalUrl: string }>;
}

/**
 * `file_url`: MirrorStage fetches HTTPS URLs only, and for keys with origin restrictions only from
 * the hosts those origins name. Where the bytes may come from is then decided by the fetcher
 * VerifyUrl uses (public addresses only, checked after every resolution and redirect, the
 * connection pinned to the checked address; size and time limits): one SSRF guard, not two.
 */
export async function fetchFileUrl(fetcher: FileUrlFetcher | undefined, raw: string, identity: Identity, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array> {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw invalidArgument(`file_url is not a URL: "${raw.slice(0, 200)}"`, { details: { field: 'file_url' } });
  }
  if (url.protocol !== 'https:') throw invalidArgument('file_url must be an https:// URL', { details: { field: 'file_url' } });
  const origins = identity.allowedOrigins ?? [];
  if (origins.length > 0 && !origins.some((origin) => hostOf(origin) === url.hostname)) {
    throw invalidArgument(`file_url names the host ${url.hostname}, which is not among this key's allowed origins`, { details: { field: 'file_url' } });
  }
  if (!fetcher) throw failedPrecondition('this server does not fetch file_url; upload the file instead', { details: { field: 'file_url' } });
  try {
    const fetched = await fetcher.fetchAsset({ url: url.href, maxBytes, signal });
    return fetched.bytes;
  } catch (error) {
    // The fetcher speaks of VerifyUrl's `url`; the caller sent `file_url`.
    if (isMeshError(error)) {
      const message = `file_url: ${error.message.replace(/VerifyUrl only fetches/g, 'only files on')}`;
      throw new MeshError(error.code, message, { cause: error, metadata: error.metadata, details: { ...error.details, field: 'file_url' } });
    }
    throw error;
  }
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).hostname;
  } catch {
    return undefined;
  }
}
