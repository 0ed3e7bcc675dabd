import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { callDependency, invalidArgument, notFound } from '@c2pa-mesh/errors';
import { verificationV1 } from '@c2pa-mesh/proto';
import { callerIdentity } from '@c2pa-mesh/server';
import type { VerificationServiceDeps } from './routes.js';
import { STATE_NAMES, utc } from './verify-asset.js';
import { contentHash } from './verify-by-hash.js';

const { ValidationState } = verificationV1;
const STATE_BY_NAME: Record<string, number> = { INVALID: ValidationState.INVALID, VALID: ValidationState.VALID, TRUSTED: ValidationState.TRUSTED };

function rfc3339(value: string, field: string): string {
  if (value.trim() === '') return '';
  const time = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(time.getTime())) {
    throw invalidArgument(`${field} must be an RFC 3339 time such as 2026-01-31T12:00:00Z, got "${value.slice(0, 60)}"`, { details: { field } });
  }
  return time.toISOString();
}

/**
 * ListVerifications: the verification history kept by the registry, newest first. A caller tied
 * to a project sees its project's (naming another answers not_found, as if it did not exist);
 * mesh-wide callers (admin) see every project's unless they name one.
 */
export async function listVerifications(deps: VerificationServiceDeps, req: verificationV1.ListVerificationsRequest, ctx: HandlerContext) {
  const identity = callerIdentity(ctx);
  if (identity.projectId !== undefined && req.projectId !== '' && req.projectId !== identity.projectId) {
    throw notFound(`no project ${req.projectId}`);
  }
  const projectId = identity.projectId ?? req.projectId;
  if (req.validationState !== ValidationState.UNSPECIFIED && STATE_NAMES[req.validationState] === undefined) {
    throw invalidArgument(`validation_state ${req.validationState} is not a validation state`, { details: { field: 'validation_state' } });
  }
  if (req.pageSize < 0) throw invalidArgument('page_size must not be negative', { details: { field: 'page_size' } });
  const since = rfc3339(req.since, 'since');
  const until = rfc3339(req.until, 'until');
  if (since !== '' && until !== '' && since >= until) {
    throw invalidArgument('since must be earlier than until', { details: { field: 'since' } });
  }

  const assetSha256 = req.assetSha256 === '' ? '' : contentHash(req.assetSha256);
  const page = await callDependency(
    'the registry could not read the verification history',
    () =>
      deps.clients.registry.queryVerifications({
        validationState: STATE_NAMES[req.validationState] ?? '',
        since,
        until,
        projectId,
        assetSha256,
        pageSize: Math.min(req.pageSize, 500),
        pageToken: req.pageToken,
      }),
    // A page token that does not fit the filters is the caller's to fix.
    { keep: ['invalid_argument'] },
  );
  return create(verificationV1.ListVerificationsResponseSchema, {
    verifications: page.verifications.map((record) =>
      create(verificationV1.VerificationRecordSchema, {
        verificationId: record.verificationId,
        assetSha256: record.assetSha256,
        validationState: STATE_BY_NAME[record.validationState] ?? ValidationState.UNSPECIFIED,
        format: record.format,
        signer: record.signer,
        projectId: record.projectId,
        requestId: record.requestId,
        verifiedAt: utc(record.verifiedAt),
        source: record.source,
        errorCount: record.errorCount,
        firstErrorCode: record.firstErrorCode,
      }),
    ),
    nextPageToken: page.nextPageToken,
  });
}
