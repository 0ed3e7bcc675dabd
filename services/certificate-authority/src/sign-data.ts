import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { failedPrecondition, invalidArgument, notFound } from '@c2pa-mesh/errors';
import { certificateAuthorityV1 } from '@c2pa-mesh/proto';
import { callContext, inSpan } from '@c2pa-mesh/server';
import { findCertificateById } from '@c2pa-mesh/storage';
import type { CertificateAuthority } from './certificate-authority.js';
import { certificateStatus } from './certificate-records.js';

/** Largest input signed: C2PA claims are kilobytes; a megabyte leaves ample room. */
const MAX_DATA_BYTES = 1024 * 1024;
const ENCODINGS = { '': 'der', der: 'der', 'ieee-p1363': 'ieee-p1363' } as const;

/**
 * Signs with a key the CA keeps. A revoked, expired or not yet activated certificate stops
 * signing at once: the record is read on every call, or kept while every status change is heard
 * (the cache CheckStatus uses, emptied by each activation or revocation; expiry is computed from
 * the record at every call).
 */
export async function signData(ca: CertificateAuthority, req: certificateAuthorityV1.SignDataRequest, ctx: HandlerContext) {
  if (!req.certificateId) throw invalidArgument('certificate_id is required');
  const encoding = ENCODINGS[req.encoding as keyof typeof ENCODINGS];
  if (!encoding) throw invalidArgument(`encoding "${req.encoding}" is not supported; use der or ieee-p1363`);
  if (req.data.length > MAX_DATA_BYTES) throw invalidArgument(`data is larger than ${MAX_DATA_BYTES} bytes; sign a claim, not an asset`);
  callContext(ctx).sizeBytes = req.data.length;
  const row = await ca.statusRows.byId(req.certificateId, () => findCertificateById(ca.deps.db, req.certificateId));
  if (!row) throw notFound(`no certificate ${req.certificateId}`);
  if (row.project_id) callContext(ctx).projectId = row.project_id;
  const status = certificateStatus(row);
  if (status !== 'ACTIVE') throw failedPrecondition(`certificate ${row.id} is ${status}; only ACTIVE certificates sign`);
  const signer = ca.heldKeySigner(row);
  const signature = await inSpan('pki sign-data', { 'c2pamesh.certificate_id': row.id, 'c2pamesh.algorithm': signer.algorithm }, () =>
    signer.sign(req.data, { ecdsaEncoding: encoding }),
  );
  return create(certificateAuthorityV1.SignDataResponseSchema, { signature, algorithm: signer.algorithm });
}
