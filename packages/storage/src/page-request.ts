import { decodePageToken, encodePageToken, pageSize } from './pagination.js';
import type { KeysetPosition } from './repositories/keyset.js';

export interface PageRequest {
  /** Rows to fetch: one more than the page, to know whether another page follows. */
  fetch: number;
  size: number;
  after?: KeysetPosition;
}

export function pageRequest(req: { pageSize: number; pageToken: string }): PageRequest {
  const size = pageSize(req.pageSize);
  const cursor = decodePageToken(req.pageToken);
  return { size, fetch: size + 1, after: cursor ? { at: new Date(cursor.at), id: cursor.id } : undefined };
}

/** The page and the token for the next one, from rows fetched with `fetch` as the limit. */
export function pageOf<T extends { id: string }>(rows: T[], page: PageRequest, sortKey: (row: T) => Date): { rows: T[]; nextPageToken: string } {
  const kept = rows.slice(0, page.size);
  const last = kept[kept.length - 1];
  const nextPageToken = rows.length > page.size && last ? encodePageToken({ at: sortKey(last).toISOString(), id: last.id }) : '';
  return { rows: kept, nextPageToken };
}
