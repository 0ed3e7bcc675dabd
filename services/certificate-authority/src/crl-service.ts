import type { KeySigner } from '@c2pa-mesh/key-custody';
import { buildCrl, toPem, type CrlEntry } from '@c2pa-mesh/pki';
import { type Database, listUnexpiredRevocations, nextCounter } from '@c2pa-mesh/storage';
import { revocationStatusOf } from './revocation-status.js';

/** An issuing CA that publishes a CRL. */
export interface CrlIssuer {
  certificateId: string;
  certificateDer: Uint8Array;
  signer: KeySigner;
}

export interface PublishedCrl {
  der: Uint8Array;
  pem: string;
  thisUpdate: Date;
  nextUpdate: Date;
  crlNumber: bigint;
}

export interface CrlService {
  /** The current CRL of `issuer`: signed again when a status changed or half its validity passed. */
  crlFor(issuer: CrlIssuer): Promise<PublishedCrl>;
  invalidate(issuerId: string): void;
  clear(): void;
}

/**
 * Full CRLs (RFC 5280 §5), one per issuing CA, built from the database on demand and kept until a
 * certificate of that CA changes status. CRL numbers come from a counter in the database, so they
 * increase across restarts and across instances.
 */
export function createCrlService(options: { db: Database; validitySeconds: number; caching: () => boolean; clock?: () => number }): CrlService {
  const { db } = options;
  const clock = options.clock ?? Date.now;
  const published = new Map<string, PublishedCrl>();
  const pending = new Map<string, Promise<PublishedCrl>>();
  const epochs = new Map<string, number>();

  async function build(issuer: CrlIssuer): Promise<PublishedCrl> {
    const startEpoch = epochs.get(issuer.certificateId) ?? 0;
    const now = Math.floor(clock() / 1000) * 1000;
    const thisUpdate = new Date(now);
    const nextUpdate = new Date(now + options.validitySeconds * 1000);
    const rows = await listUnexpiredRevocations(db, issuer.certificateId, thisUpdate);
    const entries: CrlEntry[] = [];
    for (const row of rows) {
      const status = revocationStatusOf(row);
      if (status.status === 'revoked') entries.push({ serialNumberHex: row.serial_number, revokedAt: status.revokedAt, reason: status.reason });
    }
    const crlNumber = await nextCounter(db, `crl_number:${issuer.certificateId}`);
    const der = await buildCrl({ issuerCertificateDer: issuer.certificateDer, signer: issuer.signer, entries, thisUpdate, nextUpdate, crlNumber });
    const crl = { der, pem: toPem(der, 'X509 CRL'), thisUpdate, nextUpdate, crlNumber };
    if (options.caching() && (epochs.get(issuer.certificateId) ?? 0) === startEpoch) published.set(issuer.certificateId, crl);
    return crl;
  }

  return {
    async crlFor(issuer) {
      const current = published.get(issuer.certificateId);
      const refreshAt = current ? current.thisUpdate.getTime() + (current.nextUpdate.getTime() - current.thisUpdate.getTime()) / 2 : 0;
      if (current && clock() < refreshAt) return current;
      let inFlight = pending.get(issuer.certificateId);
      if (!inFlight) {
        const building = build(issuer).finally(() => {
          if (pending.get(issuer.certificateId) === building) pending.delete(issuer.certificateId);
        });
        pending.set(issuer.certificateId, (inFlight = building));
      }
      return inFlight;
    },
    invalidate(issuerId) {
      epochs.set(issuerId, (epochs.get(issuerId) ?? 0) + 1);
      // Callers from now on must not join a build that read the old statuses.
      pending.delete(issuerId);
      published.delete(issuerId);
    },
    clear() {
      for (const issuerId of new Set([...published.keys(), ...pending.keys()])) epochs.set(issuerId, (epochs.get(issuerId) ?? 0) + 1);
      pending.clear();
      published.clear();
    },
  };
}
