import { DEFAULT_MAX_ASSET_BYTES, MAX_ASSET_BYTES_CEILING, type Identity } from '@c2pa-mesh/auth';
import { checkDeclaredFormat, checkSignableForm, formatDisplayName, isSignableFormat, normalizeFormat } from '@c2pa-mesh/engine';
import { failedPrecondition, invalidArgument, resourceExhausted } from '@c2pa-mesh/errors';

/**
 * The input rules of Sign and SignStream that need no other service: checked before anything is
 * signed, time-stamped or written, each failing with a message that says what to change.
 */

/** Smaller than any real media file of a signable format: an empty, truncated or placeholder upload. */
export const MIN_ASSET_BYTES = 100;
/** The registry keeps titles of up to 500 characters. */
export const MAX_TITLE_LENGTH = 500;
const MAX_TAGS = 50;
const MAX_TAG_LENGTH = 100;

/** Largest asset this caller may send: its key's limit (default 100 MiB), never above 200 MiB. */
export function assetSizeLimit(identity: Identity): number {
  const limit = identity.limits?.maxAssetBytes;
  return Math.min(limit !== undefined && limit > 0 ? limit : DEFAULT_MAX_ASSET_BYTES, MAX_ASSET_BYTES_CEILING);
}

const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

export function tooLarge(size: number | 'more', limit: number): Error {
  const shown = size === 'more' ? `more than ${limit} bytes` : `${size} bytes (${mib(size)})`;
  return resourceExhausted(`the asset is ${shown}; this caller may sign assets of at most ${limit} bytes (${mib(limit)})`, {
    details: { field: 'asset', maxAssetBytes: limit },
  });
}

/** The canonical MIME type of a format the engine can sign. */
export function signableFormat(format: string): string {
  if (format.trim() === '') {
    throw invalidArgument('format is required: the MIME type of the asset, e.g. image/jpeg', { details: { field: 'format' } });
  }
  const canonical = normalizeFormat(format);
  if (!isSignableFormat(canonical)) {
    throw failedPrecondition(`${formatDisplayName(canonical)} assets can be verified but not signed`, { details: { field: 'format', format: canonical } });
  }
  return canonical;
}

/** Size within [MIN_ASSET_BYTES, limit]. */
export function checkAssetSize(size: number, limit: number): void {
  if (size === 0) throw invalidArgument('asset is empty: send the complete media file', { details: { field: 'asset' } });
  if (size < MIN_ASSET_BYTES) {
    throw invalidArgument(`asset is only ${size} bytes; a media file to sign has at least ${MIN_ASSET_BYTES} (is it truncated or a placeholder?)`, {
      details: { field: 'asset', sizeBytes: size },
    });
  }
  if (size > limit) throw tooLarge(size, limit);
}

/** The declared format against the asset's magic bytes (a prefix of the asset is enough). */
export function checkMagicBytes(format: string, head: Uint8Array): void {
  checkSignableForm(checkDeclaredFormat(format, head), head);
}

export interface RegistryLabels {
  title: string;
  tags: string[];
}

/** Title and tags as the registry records them: trimmed, tags de-duplicated in order. */
export function registryLabels(title: string, tags: readonly string[]): RegistryLabels {
  const trimmedTitle = title.trim();
  if (trimmedTitle.length > MAX_TITLE_LENGTH) {
    throw invalidArgument(`title is ${trimmedTitle.length} characters long; at most ${MAX_TITLE_LENGTH} are allowed`, { details: { field: 'title' } });
  }
  if (tags.length > MAX_TAGS) throw invalidArgument(`${tags.length} tags given; at most ${MAX_TAGS} are allowed`, { details: { field: 'tags' } });
  const seen = new Set<string>();
  tags.forEach((tag, i) => {
    const trimmed = tag.trim();
    if (trimmed === '') throw invalidArgument(`tags[${i}] is empty`, { details: { field: `tags[${i}]` } });
    if (trimmed.length > MAX_TAG_LENGTH) {
      throw invalidArgument(`tags[${i}] is ${trimmed.length} characters long; at most ${MAX_TAG_LENGTH} are allowed`, { details: { field: `tags[${i}]` } });
    }
    seen.add(trimmed);
  });
  return { title: trimmedTitle, tags: [...seen] };
}
