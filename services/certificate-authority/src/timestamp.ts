import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { invalidArgument } from '@c2pa-mesh/errors';
import { MAX_TIME_STAMP_REQUEST_BYTES } from '@c2pa-mesh/pki';
import { certificateAuthorityV1 } from '@c2pa-mesh/proto';
import { callContext, inSpan } from '@c2pa-mesh/server';
import type { CertificateAuthority } from './certificate-authority.js';

/** RFC 3161 over RPC: the same exchange as `POST /tsa`, for callers with the `sign` scope. */
export async function timestamp(ca: CertificateAuthority, req: certificateAuthorityV1.TimestampRequest, ctx: HandlerContext) {
  const query = req.timestampQuery;
  callContext(ctx).sizeBytes = query.length;
  if (query.length === 0) throw invalidArgument('timestamp_query is required: a DER TimeStampReq (e.g. from `openssl ts -query`)');
  if (query.length > MAX_TIME_STAMP_REQUEST_BYTES) throw invalidArgument(`timestamp_query is larger than ${MAX_TIME_STAMP_REQUEST_BYTES} bytes`);
  const result = await inSpan('pki time-stamp', {}, async (span) => {
    const answer = await ca.tsa.respond(query);
    span.setAttribute('c2pamesh.tsa_status', answer.status);
    return answer;
  });
  if (result.status === 'rejection' && result.malformed) {
    throw invalidArgument(`timestamp_query is not a DER TimeStampReq: ${result.statusText}`);
  }
  return create(certificateAuthorityV1.TimestampResponseSchema, {
    timestampResponse: result.response,
    genTime: result.genTime?.toISOString() ?? '',
    serialNumber: result.serialNumberHex ?? '',
    status: result.status === 'granted' ? 'GRANTED' : 'REJECTION',
  });
}
