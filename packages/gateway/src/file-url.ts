import type { Identity } from '@c2pa-mesh/auth';
import { createSpool, type Spool } from '@c2pa-mesh/c2pa-stream';
import { MeshError, failedPrecondition, invalidArgument, isMeshError } from '@c2pa-mesh/errors';

/**
 * What the gateway needs of a URL fetcher. The mesh hands it the verification service's fetcher;
 * the gateway names only the shape it calls, so that it does not depend on a service.
 */
export interface FileUrlFetcher {
  fetchAsset(options: { url: string; maxBytes: number; signal?: AbortSignal }): Promise<{ bytes: Uint8Array }>;
  /** The same fetch with the body hashed as it arrives, never held whole (Verimago's verify/url). */
  hashAsset?(options: { url: string; maxBytes: number; signal?: AbortSignal; timeoutMs?: number }): Promise<{ sha256: string; sizeBytes: number; finalUrl: string }>;
  /** The same fetch with each piece of the body handed on (and awaited) as it arrives, never held whole. */
  streamAsset?(options: { url: string; maxBytes: number; signal?: AbortSignal; onChunk(chunk: Uint8Array): Promise<void> | void }): Promise<{ sizeBytes: number }>;
}

/** A `file_url` body: in memory, or (above the spool threshold) in a spool file the caller removes. */
export type FetchedFile = { bytes: Uint8Array; spooled?: undefined } | { spooled: Spool; size: number };

/**
 * `file_url`: MirrorStage fetches HTTPS URLs only, and for keys with origin restrictions only from
 * the hosts those origins name. Where the bytes may come from is then decided by the fetcher
 * VerifyUrl uses (public addresses only, checked after every resolution and redirect, the
 * connection pinned to the checked address; size and time limits): one SSRF guard, not two.
 */
export async function fetchFileUrl(fetcher: FileUrlFetcher | undefined, raw: string, identity: Identity, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array> {
  const url = checkedFileUrl(fetcher, raw, identity);
  try {
    return (await fetcher!.fetchAsset({ url, maxBytes, signal })).bytes;
  } catch (error) {
    throw asFileUrlError(error);
  }
}

/**
 * `file_url` fetched as a multipart `file` is read: up to `spool.thresholdBytes` in memory,
 * beyond that into a private spool file under `spool.dir`, written as the body arrives (the
 * download waits for the disk), so the gateway never holds a large file. The size limit, the
 * time limit and the address policy are the fetcher's, as for `fetchFileUrl`; a body over
 * `maxBytes` is refused as soon as it passes it. On any failure the spool file is removed here;
 * on success the caller removes it.
 */
export async function fetchFileUrlToSpool(
  fetcher: FileUrlFetcher | undefined,
  raw: string,
  identity: Identity,
  maxBytes: number,
  spool: { thresholdBytes: number; dir: string },
  signal?: AbortSignal,
): Promise<FetchedFile> {
  const url = checkedFileUrl(fetcher, raw, identity);
  if (fetcher!.streamAsset === undefined) return { bytes: await fetchFileUrl(fetcher, raw, identity, maxBytes, signal) };
  const chunks: Uint8Array[] = [];
  let size = 0;
  let file: Spool | undefined;
  try {
    await fetcher!.streamAsset({
      url,
      maxBytes,
      signal,
      async onChunk(chunk) {
        size += chunk.length;
        if (file === undefined && size <= spool.thresholdBytes) {
          chunks.push(chunk);
          return;
        }
        if (file === undefined) {
          file = await createSpool(spool.dir);
          for (const earlier of chunks.splice(0)) await file.write(earlier);
        }
        await file.write(chunk);
      },
    });
    if (file === undefined) return { bytes: new Uint8Array(Buffer.concat(chunks, size)) };
    await file.finish();
    return { spooled: file, size };
  } catch (error) {
    await file?.remove();
    throw asFileUrlError(error);
  }
}

/** The URL to fetch, after what MirrorStage itself checks (https, the key's origins, a fetcher). */
function checkedFileUrl(fetcher: FileUrlFetcher | undefined, raw: string, identity: Identity): string {
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
  return url.href;
}

/** The fetcher speaks of VerifyUrl's `url` and of verifying; the caller sent `file_url` to sign. */
function asFileUrlError(error: unknown): unknown {
  if (!isMeshError(error)) return error;
  const message = `file_url: ${error.message.replace(/VerifyUrl only fetches/g, 'only files on').replace(/this caller may verify/g, 'this caller may sign')}`;
  return new MeshError(error.code, message, { cause: error, metadata: error.metadata, details: { ...error.details, field: 'file_url' } });
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).hostname;
  } catch {
    return undefined;
  }
}
