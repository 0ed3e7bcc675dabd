import { LRUCache } from 'lru-cache';
import type { CertificateRow } from '@c2pa-mesh/storage';

/**
 * Certificate records as CheckStatus reads them, kept while every status change can be heard (see
 * status-events.ts): a verification asks for the status of the same few signing certificates
 * over and over. Any status change, here or announced by another instance, empties the cache, as
 * does losing the channel; status changes are rare (revocations, activations) next to lookups.
 * Expiry needs no event: it is computed from the record at every answer. Only records that exist
 * are kept, so a certificate issued later is never hidden by an earlier miss, and only those with
 * an issuer, whose changes are announced.
 */
export interface StatusRowCache {
  byId(certificateId: string, load: () => Promise<CertificateRow | undefined>): Promise<CertificateRow | undefined>;
  bySerial(serialNumberHex: string, load: () => Promise<CertificateRow[]>): Promise<CertificateRow[]>;
  /** A status changed (or may have): forget every record. */
  clear(): void;
  readonly size: number;
}

/** Status changes are announced per issuer and serial: a self-signed root has no issuer to name. */
const announced = (row: CertificateRow) => row.issuer_id !== null;

export function createStatusRowCache(options: { caching: () => boolean; maxEntries: number }): StatusRowCache {
  const entries = new LRUCache<string, CertificateRow | CertificateRow[]>({ max: options.maxEntries });
  // Bumped by every clear: a lookup that started before a change must not store what it read.
  let generation = 0;

  async function cached<T extends CertificateRow | CertificateRow[] | undefined>(key: string, load: () => Promise<T>, keep: (value: T) => boolean): Promise<T> {
    if (!options.caching()) return load();
    const hit = entries.get(key);
    if (hit !== undefined) return hit as T;
    const started = generation;
    const value = await load();
    if (started === generation && options.caching() && keep(value)) {
      entries.set(key, value as CertificateRow | CertificateRow[]);
    }
    return value;
  }

  return {
    byId: (certificateId, load) => cached(`id:${certificateId}`, load, (row) => row !== undefined && announced(row)),
    bySerial: (serialNumberHex, load) => cached(`serial:${serialNumberHex}`, load, (rows) => rows.length > 0 && rows.every(announced)),
    clear() {
      generation++;
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
