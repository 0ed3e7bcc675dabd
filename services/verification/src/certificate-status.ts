import { createHash, X509Certificate } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { MeshClients } from '@c2pa-mesh/clients';
import { callDependency, isMeshError, type DependencyErrorOptions } from '@c2pa-mesh/errors';
import { CRL_REASON_NAMES } from '@c2pa-mesh/pki';

/** The CA answers a PENDING (not yet released) certificate as revoked with this reason. */
const CERTIFICATE_HOLD = 6;

/** The live status of a signing certificate at the mesh's CA, as VerifyResponse reports it. */
export interface LiveCertificateStatus {
  /** `ACTIVE`, `REVOKED`, `EXPIRED`, `UNKNOWN` or `NOT_ISSUED_BY_US`. */
  status: string;
  certificateId?: string;
  commonName?: string;
  revocationReason?: string;
  /** RFC 3339 UTC. */
  revokedAt?: string;
  /** Base64 SHA-256 of the certificate as the CA issued it, when the CA has it. */
  certificateSha256?: string;
}

export const NOT_ISSUED_BY_US: LiveCertificateStatus = { status: 'NOT_ISSUED_BY_US' };

export interface CertificateStatusLookup {
  /**
   * The status of the certificate that signed an asset, found by serial number. The certificate
   * itself must match the CA's record byte for byte (`certificateSha256`, base64): serial numbers
   * are only unique per issuer, and a foreign certificate carrying one of our serials must not
   * borrow our certificate's status.
   */
  bySerial(signer: { certificateSerialNumber?: string; certificateSha256?: string }): Promise<LiveCertificateStatus>;
  /** The status of a certificate the registry names by id. */
  byId(certificateId: string): Promise<LiveCertificateStatus>;
}

/** What never changes about an issued certificate: kept, so a verification asks the CA once. */
interface CertificateFacts {
  sha256?: string;
  notAfter: number;
  commonName: string;
}

/** Refusals that mean "no such certificate here" rather than "the CA is in trouble". */
const NO_SUCH_CERTIFICATE: DependencyErrorOptions = { keep: ['not_found', 'invalid_argument'] };
const isNoSuchCertificate = (error: unknown) => isMeshError(error) && NO_SUCH_CERTIFICATE.keep!.includes(error.code);

const FACTS_KEPT = 4096;

/**
 * Live status from the CA: CheckStatus (OCSP semantics) on every verification, so a revocation
 * shows at once; the certificate's immutable facts (fingerprint, expiry, name) from GetCertificate
 * the first time a certificate is seen.
 */
export function createCertificateStatusLookup(clients: MeshClients): CertificateStatusLookup {
  const facts = new LRUCache<string, CertificateFacts>({ max: FACTS_KEPT });

  async function factsOf(certificateId: string): Promise<CertificateFacts | undefined> {
    const known = facts.get(certificateId);
    if (known !== undefined) return known;
    let record;
    try {
      record = await callDependency('the CA could not read the signing certificate', () => clients.certificateAuthority.getCertificate({ certificateId }), NO_SUCH_CERTIFICATE);
    } catch (error) {
      if (isNoSuchCertificate(error)) return undefined;
      throw error;
    }
    const certificate = record.certificate;
    if (certificate === undefined) return undefined;
    let sha256: string | undefined;
    try {
      sha256 = createHash('sha256').update(new X509Certificate(certificate.certificatePem).raw).digest('base64');
    } catch {
      sha256 = undefined;
    }
    const learned = { sha256, notAfter: Date.parse(certificate.notAfter), commonName: certificate.commonName };
    facts.set(certificateId, learned);
    return learned;
  }

  async function checkStatus(request: { serialNumber?: string; certificateId?: string }) {
    try {
      return await callDependency('the CA could not check the signing certificate', () => clients.certificateAuthority.checkStatus({ ...request, omitOcspResponse: true }), NO_SUCH_CERTIFICATE);
    } catch (error) {
      if (isNoSuchCertificate(error)) return undefined;
      throw error;
    }
  }

  async function statusOf(checked: Awaited<ReturnType<typeof checkStatus>>, expectedSha256: string | undefined, requireMatch: boolean): Promise<LiveCertificateStatus> {
    if (checked === undefined || checked.certificateId === '' || checked.status === 'UNKNOWN') return NOT_ISSUED_BY_US;
    const known = await factsOf(checked.certificateId);
    if (known === undefined) return NOT_ISSUED_BY_US;
    if (requireMatch && (expectedSha256 === undefined || known.sha256 !== expectedSha256)) return NOT_ISSUED_BY_US;
    const result: LiveCertificateStatus = { status: 'ACTIVE', certificateId: checked.certificateId, commonName: known.commonName };
    if (known.sha256 !== undefined) result.certificateSha256 = known.sha256;
    if (checked.status === 'REVOKED' && checked.revocationReason === CERTIFICATE_HOLD) {
      // Issued but not released (PENDING): none of the states above.
      result.status = 'UNKNOWN';
    } else if (checked.status === 'REVOKED') {
      result.status = 'REVOKED';
      result.revocationReason = CRL_REASON_NAMES[checked.revocationReason] ?? `reason ${checked.revocationReason}`;
      if (checked.revokedAt !== '') result.revokedAt = checked.revokedAt;
    } else if (checked.status !== 'GOOD') {
      result.status = 'UNKNOWN';
    } else if (Number.isFinite(known.notAfter) && known.notAfter < Date.now()) {
      result.status = 'EXPIRED';
    }
    return result;
  }

  return {
    async bySerial(signer) {
      const serial = signer.certificateSerialNumber;
      if (serial === undefined || !/^[0-9a-f]{1,40}$/i.test(serial)) return NOT_ISSUED_BY_US;
      return statusOf(await checkStatus({ serialNumber: serial }), signer.certificateSha256, true);
    },
    async byId(certificateId) {
      return statusOf(await checkStatus({ certificateId }), undefined, false);
    },
  };
}
