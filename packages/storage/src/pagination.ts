import { invalidArgument } from '@c2pa-mesh/errors';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Page size as the API documents it: 0 → 50, above 500 → 500, negative → invalid. */
export function pageSize(requested: number): number {
  if (requested < 0) throw invalidArgument('page_size must not be negative');
  if (requested === 0) return DEFAULT_PAGE_SIZE;
  return Math.min(requested, MAX_PAGE_SIZE);
}

/** Keyset cursor: the sort key and id of the last row returned. Opaque to callers. */
export interface PageCursor {
  at: string;
  id: string;
}

export function encodePageToken(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.at, cursor.id]), 'utf8').toString('base64url');
}

export function decodePageToken(token: string): PageCursor | undefined {
  if (token === '') return undefined;
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string' && !Number.isNaN(Date.parse(value[0]))) {
      return { at: value[0], id: value[1] };
    }
  } catch {
    // fall through
  }
  throw invalidArgument('page_token is not one this server issued; pass next_page_token from the previous response');
}
