import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { ApiKeyRow, ApiKeyTable, MeshDatabase } from '../schema.js';
import { afterKeyset, type KeysetPosition } from './keyset.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

export type NewApiKey = Omit<Insertable<ApiKeyTable>, 'created_at' | 'scopes' | 'allowed_origins'> & {
  scopes: readonly string[];
  allowed_origins: readonly string[];
};

function toRow(key: NewApiKey, createdAt: Date): Insertable<ApiKeyTable> {
  return { ...key, scopes: JSON.stringify(key.scopes), allowed_origins: JSON.stringify(key.allowed_origins), created_at: createdAt };
}

export async function insertApiKey(db: Db, key: NewApiKey): Promise<ApiKeyRow> {
  return db.insertInto('api_keys').values(toRow(key, new Date())).returningAll().executeTakeFirstOrThrow();
}

export async function findApiKeyById(db: Db, id: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The key presented as a bearer token, found by the SHA-256 of its secret (the only form stored). */
export async function findApiKeyBySecretHash(db: Db, secretHash: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('secret_hash', '=', secretHash).executeTakeFirst();
}

export interface ApiKeyFilter {
  projectId: string;
  /** Include REVOKED keys and keys whose expiry has passed. */
  includeInactive: boolean;
  after?: KeysetPosition;
  limit: number;
}

/** Newest first. */
export async function listApiKeys(db: Db, filter: ApiKeyFilter): Promise<ApiKeyRow[]> {
  let query = db.selectFrom('api_keys').selectAll().where('project_id', '=', filter.projectId);
  if (!filter.includeInactive) {
    query = query
      .where('status', 'in', ['ACTIVE', 'ROTATING'])
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]));
  }
  if (filter.after) query = query.where(afterKeyset('api_keys', 'created_at', 'desc', filter.after));
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}

export interface ApiKeyChanges {
  name?: string;
  scopes?: readonly string[];
  maxAssetBytes?: number;
  requestsPerMinute?: number;
  expiresAt?: Date | null;
  allowedOrigins?: readonly string[];
}

/** Changes the settings of a key that is neither revoked nor expired; undefined otherwise. */
export async function updateApiKeySettings(db: Db, id: string, changes: ApiKeyChanges): Promise<ApiKeyRow | undefined> {
  return db
    .updateTable('api_keys')
    .set({
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.scopes !== undefined ? { scopes: JSON.stringify(changes.scopes) } : {}),
      ...(changes.maxAssetBytes !== undefined ? { max_asset_bytes: changes.maxAssetBytes } : {}),
      ...(changes.requestsPerMinute !== undefined ? { requests_per_minute: changes.requestsPerMinute } : {}),
      ...(changes.expiresAt !== undefined ? { expires_at: changes.expiresAt } : {}),
      ...(changes.allowedOrigins !== undefined ? { allowed_origins: JSON.stringify(changes.allowedOrigins) } : {}),
    })
    .where('id', '=', id)
    .where('status', '!=', 'REVOKED')
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
    .returningAll()
    .executeTakeFirst();
}

/**
 * Replaces an ACTIVE, unexpired key: the replacement is inserted and the old key becomes ROTATING
 * with an expiry at the end of its grace period (or its own expiry, if sooner). Undefined when
 * the old key is not ACTIVE any more (revoked, expired or rotated meanwhile).
 */
export async function rotateApiKey(
  db: Kysely<MeshDatabase>,
  oldKeyId: string,
  replacement: NewApiKey,
  graceEndsAt: Date,
): Promise<{ old: ApiKeyRow; replacement: ApiKeyRow } | undefined> {
  return db.transaction().execute(async (trx) => {
    const inserted = await insertApiKey(trx, replacement);
    const old = await trx
      .updateTable('api_keys')
      .set({
        status: 'ROTATING',
        replaced_by_key_id: inserted.id,
        expires_at: sql<Date>`least(coalesce(expires_at, ${graceEndsAt}::timestamptz), ${graceEndsAt}::timestamptz)`,
      })
      .where('id', '=', oldKeyId)
      .where('status', '=', 'ACTIVE')
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
      .returningAll()
      .executeTakeFirst();
    if (!old) {
      // Nothing to replace: undo the insert by rolling the transaction back.
      throw new RotationConflict();
    }
    return { old, replacement: inserted };
  }).catch((err) => {
    if (err instanceof RotationConflict) return undefined;
    throw err;
  });
}

class RotationConflict extends Error {}

/** Revokes a key that is not revoked yet; undefined when it already was (or does not exist). */
export async function revokeApiKey(db: Db, id: string, reason: string): Promise<ApiKeyRow | undefined> {
  return db
    .updateTable('api_keys')
    .set({ status: 'REVOKED', revoked_at: new Date(), revoke_reason: reason === '' ? null : reason })
    .where('id', '=', id)
    .where('status', '!=', 'REVOKED')
    .returningAll()
    .executeTakeFirst();
}

/** Counts one call made with a key, for ListApiKeys (last used, requests, successes, errors). */
export async function recordApiKeyUse(db: Db, id: string, succeeded: boolean): Promise<void> {
  await db
    .updateTable('api_keys')
    .set((eb) => ({
      last_used_at: new Date(),
      request_count: eb('request_count', '+', 1),
      success_count: succeeded ? eb('success_count', '+', 1) : eb.ref('success_count'),
      error_count: succeeded ? eb.ref('error_count') : eb('error_count', '+', 1),
    }))
    .where('id', '=', id)
    .execute();
}
