import type { OcspCertStatus } from '@c2pa-mesh/pki';
import type { CertificateRow } from '@c2pa-mesh/storage';

/** RFC 5280 CRLReason certificateHold. */
export const CERTIFICATE_HOLD = 6;

/**
 * A certificate's revocation status as OCSP and the CRL publish it. A PENDING certificate is on
 * hold (revoked, reason certificateHold, since issuance) until it is activated: relying parties
 * must not accept what the CA has not released yet. EXPIRED is not a revocation status.
 */
export function revocationStatusOf(row: Pick<CertificateRow, 'status' | 'revoked_at' | 'revocation_reason' | 'issued_at'>): OcspCertStatus {
  if (row.status === 'REVOKED') {
    return { status: 'revoked', revokedAt: row.revoked_at ?? row.issued_at, reason: row.revocation_reason ?? 0 };
  }
  if (row.status === 'PENDING') return { status: 'revoked', revokedAt: row.issued_at, reason: CERTIFICATE_HOLD };
  return { status: 'good' };
}
