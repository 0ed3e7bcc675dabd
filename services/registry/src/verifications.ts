import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { invalidArgument } from '@c2pa-mesh/errors';
import { registryV1 } from '@c2pa-mesh/proto';
import { insertVerification, insertWithWebhookEvent, newId, queryVerifications } from '@c2pa-mesh/storage';
import { requestedProject } from '@c2pa-mesh/server';
import type { RegistryServiceDeps } from './deps.js';
import { toVerificationRecord } from './messages.js';
import { pageOf, pageRequest } from '@c2pa-mesh/storage';
import { boundedText, oneOf, optionalTimestamp, parseContentHash, parseTimestamp } from './validation.js';

const STATES = ['INVALID', 'VALID', 'TRUSTED'] as const;
const SOURCES = ['BYTES', 'STREAM', 'URL', 'BATCH', 'HASH'] as const;

/** Called by the Verification service for every verification it made. */
export async function recordVerification(deps: RegistryServiceDeps, req: registryV1.RecordVerificationRequest, ctx: HandlerContext) {
  if (req.errorCount < 0) throw invalidArgument('error_count must not be negative');
  const projectId = requestedProject(ctx, req.projectId) ?? null;
  const record = {
    id: newId('ver'),
    projectId,
    assetSha256: parseContentHash(req.assetSha256, 'asset_sha256'),
    validationState: oneOf(req.validationState, STATES, 'validation_state'),
    format: boundedText(req.format, 'format', 200),
    signer: boundedText(req.signer, 'signer', 1000),
    requestId: req.requestId,
    source: oneOf(req.source, SOURCES, 'source'),
    errorCount: req.errorCount,
    firstErrorCode: boundedText(req.firstErrorCode, 'first_error_code', 200),
    verifiedAt: req.verifiedAt === '' ? new Date() : parseTimestamp(req.verifiedAt, 'verified_at'),
  };
  const row = await insertWithWebhookEvent(
    deps.db,
    projectId,
    'verification.completed',
    (db) => insertVerification(db, record),
    (inserted) => ({
      verification_id: inserted.id,
      asset_sha256: inserted.asset_sha256,
      validation_state: inserted.validation_state,
      format: inserted.format,
      signer: inserted.signer,
      source: inserted.source,
      error_count: inserted.error_count,
      first_error_code: inserted.first_error_code,
      verified_at: inserted.verified_at.toISOString(),
      request_id: inserted.request_id,
    }),
  );
  return create(registryV1.RecordVerificationResponseSchema, { verification: toVerificationRecord(row) });
}

/** The verification history, for the Verification service's ListVerifications (it applies tenancy). */
export async function queryVerificationsHandler(deps: RegistryServiceDeps, req: registryV1.QueryVerificationsRequest, ctx: HandlerContext) {
  const page = pageRequest(req);
  const rows = await queryVerifications(deps.db, {
    projectId: requestedProject(ctx, req.projectId),
    validationState: req.validationState === '' ? undefined : oneOf(req.validationState, STATES, 'validation_state'),
    assetSha256: req.assetSha256 === '' ? undefined : parseContentHash(req.assetSha256, 'asset_sha256'),
    since: optionalTimestamp(req.since, 'since'),
    until: optionalTimestamp(req.until, 'until'),
    after: page.after,
    limit: page.fetch,
  });
  const { rows: records, nextPageToken } = pageOf(rows, page, (r) => r.verified_at);
  return create(registryV1.QueryVerificationsResponseSchema, { verifications: records.map(toVerificationRecord), nextPageToken });
}
