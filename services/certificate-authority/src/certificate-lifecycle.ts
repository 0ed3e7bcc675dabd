import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';
import { CRL_REASON_NAMES } from '@c2pa-mesh/pki';
import { certificateAuthorityV1 } from '@c2pa-mesh/proto';
import { callContext, callerIdentity } from '@c2pa-mesh/server';
import { activatePendingCertificate, markCertificateRevoked, type CertificateRow } from '@c2pa-mesh/storage';
import type { CertificateAuthority } from './certificate-authority.js';
import { visibleCertificate } from './certificate-queries.js';
import { certificateStatus, toCertificateMessage } from './certificate-records.js';
import { bindIfClient } from './issuance.js';
import { clientScopesFor, isReservedSanUri } from './issue-certificate.js';

/**
 * RFC 5280 CRLReason codes a revocation here may carry. Revocation is final, so certificateHold (6,
 * temporary) and removeFromCRL (8, delta CRLs only) are refused; 7 is not assigned.
 */
const REVOCATION_REASONS: Record<number, string> = Object.fromEntries(
  Object.entries(CRL_REASON_NAMES).filter(([code]) => code !== '6' && code !== '8'),
);

/** Certificates that keep the CA, OCSP, TSA and the mesh running: replaced by bootstrap, not revoked over the API. */
const INFRASTRUCTURE_PROFILES = new Set(['ROOT_CA', 'INTERMEDIATE_CA', 'MESH_CA', 'OCSP_RESPONDER', 'TSA']);

export function checkRevocationReasonCode(reason: number): void {
  if (reason === 6) throw invalidArgument('reason 6 (certificateHold) is refused: revocation here is final; use require_activation at issuance for certificates not yet in use');
  if (reason === 8) throw invalidArgument('reason 8 (removeFromCRL) only appears in delta CRLs and cannot be a reason to revoke');
  if (REVOCATION_REASONS[reason] === undefined) {
    const allowed = Object.entries(REVOCATION_REASONS).map(([code, name]) => `${code} ${name}`).join(', ');
    throw invalidArgument(`reason ${reason} is not an RFC 5280 CRLReason this CA accepts; use one of ${allowed}`);
  }
}

const wholeSeconds = (date: Date) => new Date(Math.floor(date.getTime() / 1000) * 1000);

function describe(row: CertificateRow): string {
  return `certificate ${row.id} is ${certificateStatus(row)}`;
}

export async function activateCertificate(ca: CertificateAuthority, req: certificateAuthorityV1.ActivateCertificateRequest, ctx: HandlerContext) {
  const identity = callerIdentity(ctx);
  const row = await visibleCertificate(ca.deps, ctx, req.certificateId);
  if (row.project_id) callContext(ctx).projectId = row.project_id;
  if (row.status !== 'PENDING') throw failedPrecondition(`${describe(row)}; only PENDING certificates can be activated`);
  if (row.not_after.getTime() <= Date.now()) throw failedPrecondition(`${describe(row)}: it expired before it was activated; issue a new one`);
  const activated = await ca.changeStatus(async (trx) => {
    const changed = await activatePendingCertificate(trx, row.id, new Date());
    if (!changed) throw failedPrecondition(`certificate ${row.id} is no longer PENDING: it was activated or revoked meanwhile`);
    // A client certificate acts for its project only from activation on.
    await bindIfClient(trx, changed, clientScopesFor(identity));
    return changed;
  });
  return create(certificateAuthorityV1.ActivateCertificateResponseSchema, { certificate: toCertificateMessage(activated) });
}

export async function revokeCertificate(ca: CertificateAuthority, req: certificateAuthorityV1.RevokeCertificateRequest, ctx: HandlerContext) {
  checkRevocationReasonCode(req.reason);
  const row = await visibleCertificate(ca.deps, ctx, req.certificateId);
  if (row.project_id) callContext(ctx).projectId = row.project_id;
  if (row.status === 'REVOKED') throw failedPrecondition(`${describe(row)} already (since ${row.revoked_at?.toISOString()})`);
  if (INFRASTRUCTURE_PROFILES.has(row.profile)) {
    throw failedPrecondition(`certificate ${row.id} is the mesh's ${row.profile} certificate; it is replaced by re-bootstrapping the PKI, not revoked`);
  }
  if (row.san_uris.some(isReservedSanUri)) {
    throw failedPrecondition(`certificate ${row.id} is one of the mesh's own identities; it is replaced by re-bootstrapping the PKI, not revoked`);
  }
  const revoked = await ca.changeStatus(async (trx) => {
    const changed = await markCertificateRevoked(trx, row.id, { revokedAt: wholeSeconds(new Date()), reason: req.reason });
    if (!changed) throw failedPrecondition(`certificate ${row.id} was revoked meanwhile`);
    return changed;
  });
  ca.deps.logger.info({ certificateId: revoked.id, serialNumber: revoked.serial_number, reason: req.reason }, 'certificate revoked');
  return create(certificateAuthorityV1.RevokeCertificateResponseSchema, { certificate: toCertificateMessage(revoked) });
}
