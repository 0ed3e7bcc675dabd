import type { Kysely, Transaction } from 'kysely';
import type { MeshDatabase, VerificationRow } from '../schema.js';
import { afterKeyset, type KeysetPosition } from './keyset.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

export interface NewVerification {
  id: string;
  projectId: string | null;
  assetSha256: string;
  validationState: string;
  format: string;
  signer: string;
  requestId: string;
  source: string;
  errorCount: number;
  firstErrorCode: string;
  verifiedAt: Date;
}

export async function insertVerification(db: Db, v: NewVerification): Promise<VerificationRow> {
  return db
    .insertInto('verifications')
    .values({
      id: v.id,
      project_id: v.projectId,
      asset_sha256: v.assetSha256,
      validation_state: v.validationState,
      format: v.format,
      signer: v.signer,
      request_id: v.requestId,
      source: v.source,
      error_count: v.errorCount,
      first_error_code: v.firstErrorCode,
      verified_at: v.verifiedAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface VerificationFilter {
  projectId?: string;
  validationState?: string;
  assetSha256?: string;
  since?: Date;
  until?: Date;
  after?: KeysetPosition;
  limit: number;
}

/** Newest first. */
export async function queryVerifications(db: Db, filter: VerificationFilter): Promise<VerificationRow[]> {
  let query = db.selectFrom('verifications').selectAll();
  if (filter.projectId !== undefined) query = query.where('project_id', '=', filter.projectId);
  if (filter.validationState !== undefined) query = query.where('validation_state', '=', filter.validationState);
  if (filter.assetSha256 !== undefined) query = query.where('asset_sha256', '=', filter.assetSha256);
  if (filter.since) query = query.where('verified_at', '>=', filter.since);
  if (filter.until) query = query.where('verified_at', '<', filter.until);
  if (filter.after) query = query.where(afterKeyset('verifications', 'verified_at', 'desc', filter.after));
  return query.orderBy('verified_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}
