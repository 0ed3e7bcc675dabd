import type { HandlerContext } from '@connectrpc/connect';
import { invalidArgument, notFound } from '@c2pa-mesh/errors';
import { certificateAuthorityV1 } from '@c2pa-mesh/proto';
import { callerIdentity } from '@c2pa-mesh/server';
import { decodePageToken, encodePageToken, findCertificateById, listCertificates, pageSize, type CertificateRow } from '@c2pa-mesh/storage';
import { create } from '@bufbuild/protobuf';
import type { CertificateAuthorityDeps } from './deps.js';
import { toCertificateMessage } from './certificate-records.js';

const STATUSES = ['', 'PENDING', 'ACTIVE', 'REVOKED', 'EXPIRED'];

/** A certificate the caller may see: its own project's, or any for mesh-wide identities. */
export async function visibleCertificate(
  deps: CertificateAuthorityDeps,
  ctx: HandlerContext,
  certificateId: string,
  find: (id: string) => Promise<CertificateRow | undefined> = (id) => findCertificateById(deps.db, id),
): Promise<CertificateRow> {
  if (!certificateId) throw invalidArgument('certificate_id is required');
  const row = await find(certificateId);
  const projectId = callerIdentity(ctx).projectId;
  // Another project's certificate is reported exactly like a missing one.
  if (!row || (projectId !== undefined && row.project_id !== projectId)) {
    throw notFound(`no certificate ${certificateId}`);
  }
  return row;
}

export async function getCertificate(deps: CertificateAuthorityDeps, req: certificateAuthorityV1.GetCertificateRequest, ctx: HandlerContext) {
  const row = await visibleCertificate(deps, ctx, req.certificateId);
  return create(certificateAuthorityV1.GetCertificateResponseSchema, { certificate: toCertificateMessage(row) });
}

export async function listCertificatesHandler(deps: CertificateAuthorityDeps, req: certificateAuthorityV1.ListCertificatesRequest, ctx: HandlerContext) {
  if (!STATUSES.includes(req.status)) throw invalidArgument(`status must be one of ${STATUSES.filter(Boolean).join(', ')}`);
  const limit = pageSize(req.pageSize);
  const cursor = decodePageToken(req.pageToken);
  const callerProject = callerIdentity(ctx).projectId;
  if (callerProject !== undefined && req.projectId && req.projectId !== callerProject) {
    throw notFound(`no project ${req.projectId}`);
  }
  const rows = await listCertificates(deps.db, {
    profile: req.profile || undefined,
    status: req.status || undefined,
    projectId: callerProject ?? (req.projectId || undefined),
    includeMeshWide: req.includeMeshWide,
    keyHeldByCa: req.keyHeldByCa,
    after: cursor ? { issuedAt: new Date(cursor.at), id: cursor.id } : undefined,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return create(certificateAuthorityV1.ListCertificatesResponseSchema, {
    certificates: page.map(toCertificateMessage),
    nextPageToken: rows.length > limit && last ? encodePageToken({ at: last.issued_at.toISOString(), id: last.id }) : '',
  });
}
