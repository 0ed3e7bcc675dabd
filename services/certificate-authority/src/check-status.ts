import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { invalidArgument } from '@c2pa-mesh/errors';
import { certificateAuthorityV1 } from '@c2pa-mesh/proto';
import { callerIdentity, inSpan } from '@c2pa-mesh/server';
import { findCertificateById, findCertificatesBySerial, type CertificateRow } from '@c2pa-mesh/storage';
import type { CertificateAuthority } from './certificate-authority.js';
import { visibleCertificate } from './certificate-queries.js';
import { revocationStatusOf } from './revocation-status.js';

/** A serial as the CA stores it: lowercase hex of whole bytes, leading zero bytes removed. */
export function canonicalSerial(input: string): string {
  let hex = input.trim().toLowerCase().replace(/^0x/, '').replace(/[:\s]/g, '');
  if (!/^[0-9a-f]{1,40}$/.test(hex)) throw invalidArgument(`serial_number "${input}" is not a hexadecimal serial number of at most 20 bytes`);
  if (hex.length % 2) hex = `0${hex}`;
  while (hex.length > 2 && hex.startsWith('00')) hex = hex.slice(2);
  return hex;
}

/**
 * The certificate's OCSP status and a freshly signed OCSPResponse for it, with the responder
 * certificate (and its issuer) inside, ready to be stapled into a C2PA signature; the status
 * alone when the caller asks for no response.
 */
export async function checkStatus(ca: CertificateAuthority, req: certificateAuthorityV1.CheckStatusRequest, ctx: HandlerContext) {
  if (!req.certificateId && !req.serialNumber) throw invalidArgument('name the certificate: certificate_id or serial_number');
  let row: CertificateRow | undefined;
  let visible = true;
  if (req.certificateId) {
    row = await visibleCertificate(ca.deps, ctx, req.certificateId, (id) => ca.statusRows.byId(id, () => findCertificateById(ca.deps.db, id)));
    if (req.serialNumber && canonicalSerial(req.serialNumber) !== row.serial_number) {
      throw invalidArgument(`serial_number ${req.serialNumber} is not the serial of certificate ${req.certificateId}; give one of the two`);
    }
  } else {
    const serial = canonicalSerial(req.serialNumber);
    const rows = await ca.statusRows.bySerial(serial, () => findCertificatesBySerial(ca.deps.db, serial));
    // Serials are unique per issuer; an end-entity certificate of ours wins over a CA certificate.
    row = rows.find((candidate) => candidate.issuer_id !== null && candidate.profile !== 'ROOT_CA' && candidate.profile !== 'MESH_CA') ?? rows[0];
    const projectId = callerIdentity(ctx).projectId;
    // Status is public (anyone may ask the OCSP responder); another project's certificate id is not.
    visible = row !== undefined && (projectId === undefined || row.project_id === projectId);
  }
  if (!row) {
    return create(certificateAuthorityV1.CheckStatusResponseSchema, { status: 'UNKNOWN', serialNumber: canonicalSerial(req.serialNumber) });
  }
  const status = revocationStatusOf(row);
  const signed = req.omitOcspResponse ? undefined : await inSpan('pki ocsp-response', { 'c2pamesh.certificate_id': row.id }, () => ca.ocsp.signedResponseFor(row));
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  return create(certificateAuthorityV1.CheckStatusResponseSchema, {
    status: status.status === 'good' ? 'GOOD' : 'REVOKED',
    revokedAt: status.status === 'revoked' ? status.revokedAt.toISOString() : '',
    revocationReason: status.status === 'revoked' ? status.reason ?? 0 : 0,
    thisUpdate: (signed?.thisUpdate ?? now).toISOString(),
    nextUpdate: (signed?.nextUpdate ?? new Date(now.getTime() + ca.settings.ocspValiditySeconds * 1000)).toISOString(),
    ocspResponse: signed?.der ?? new Uint8Array(),
    certificateId: visible ? row.id : '',
    serialNumber: row.serial_number,
  });
}
