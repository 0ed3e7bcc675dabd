import { createHash, X509Certificate } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import type { MeshClients } from '@c2pa-mesh/clients';
import { callDependency } from './dependency.js';

/** RFC 5280 CRLReason names by code. */
const CRL_REASONS: Record<number, string> = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
};

/** The live status of a signing certificate at the mesh's CA, as VerifyResponse reports it. */
export interface LiveCertificateStatus {
  /** `ACTIVE`, `REVOKED`, `EXPIRED`, `UNKNOWN` or `NOT_ISSUED_BY_US`. */
  status: string;
  certificateId?: string;
  commonName?: string;
  revocationReason?: string;
  /** RFC 3339 UTC. */
  revokedAt?: string;
}

export const NOT_ISSUED_BY_US: LiveCertificateStatus = { status: 'NOT_ISSUED_BY_US' };

/** Refusals that mean "no such certificate here" rather than "the CA is in trouble". */
const NO_SUCH_CERTIFICATE = [Code.NotFound, Code.InvalidArgument];
const isNoSuchCertificate = (error: unknown) => error instanceof ConnectError && NO_SUCH_CERTIFICATE.includes(error.code);

/**
 * Asks the CA about the certificate that signed an asset. The serial number finds the CA's record
 * (CheckStatus, OCSP semantics); the certificate itself must then match the one in the signature
 * byte for byte: serial numbers are only unique per issuer, and a foreign certificate carrying one
 * of our serials must not borrow our certificate's status.
 */
export async function liveStatusBySerial(
  clients: MeshClients,
  signer: { certificateSerialNumber?: string; certificateSha256?: string },
): Promise<LiveCertificateStatus> {
  const serial = signer.certificateSerialNumber;
  if (serial === undefined || !/^[0-9a-f]{1,80}$/i.test(serial)) return NOT_ISSUED_BY_US;
  let checked;
  try {
    checked = await callDependency('checking the signing certificate with the CA', () =>
      clients.certificateAuthority.checkStatus({ serialNumber: serial }),
    NO_SUCH_CERTIFICATE);
  } catch (error) {
    if (isNoSuchCertificate(error)) return NOT_ISSUED_BY_US;
    throw error;
  }
  if (checked.certificateId === '') return NOT_ISSUED_BY_US;
  return liveStatusById(clients, checked.certificateId, signer.certificateSha256, {
    status: checked.status,
    revokedAt: checked.revokedAt,
    revocationReason: checked.revocationReason,
  });
}

/**
 * The CA's record of a certificate it issued. `expectedSha256` (base64 SHA-256 of the DER), when
 * given, must match the certificate on record, or the answer is NOT_ISSUED_BY_US.
 */
export async function liveStatusById(
  clients: MeshClients,
  certificateId: string,
  expectedSha256?: string,
  ocsp?: { status: string; revokedAt: string; revocationReason: number },
): Promise<LiveCertificateStatus> {
  let record;
  try {
    record = await callDependency('reading the signing certificate from the CA', () => clients.certificateAuthority.getCertificate({ certificateId }), NO_SUCH_CERTIFICATE);
  } catch (error) {
    if (isNoSuchCertificate(error)) return NOT_ISSUED_BY_US;
    throw error;
  }
  const certificate = record.certificate;
  if (certificate === undefined) return NOT_ISSUED_BY_US;
  if (expectedSha256 !== undefined) {
    let sha256: string | undefined;
    try {
      sha256 = createHash('sha256').update(new X509Certificate(certificate.certificatePem).raw).digest('base64');
    } catch {
      sha256 = undefined;
    }
    if (sha256 !== expectedSha256) return NOT_ISSUED_BY_US;
  }
  // The OCSP answer is authoritative for revocation; the record adds the lifecycle (expiry).
  const revoked = ocsp?.status === 'REVOKED' || certificate.status === 'REVOKED';
  const status = revoked ? 'REVOKED' : ['ACTIVE', 'EXPIRED'].includes(certificate.status) ? certificate.status : 'UNKNOWN';
  const result: LiveCertificateStatus = { status, certificateId: certificate.certificateId, commonName: certificate.commonName };
  if (revoked) {
    const reason = ocsp?.status === 'REVOKED' ? ocsp.revocationReason : certificate.revocationReason;
    result.revocationReason = CRL_REASONS[reason] ?? `reason ${reason}`;
    const revokedAt = (ocsp?.status === 'REVOKED' ? ocsp.revokedAt : '') || certificate.revokedAt;
    if (revokedAt) result.revokedAt = revokedAt;
  }
  return result;
}
