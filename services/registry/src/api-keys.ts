import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import {
  DEFAULT_MAX_ASSET_BYTES,
  DEFAULT_REQUESTS_PER_MINUTE,
  MAX_ASSET_BYTES_CEILING,
  MAX_REQUESTS_PER_MINUTE,
  generateApiKeySecret,
} from '@c2pa-mesh/auth';
import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';
import { registryV1 } from '@c2pa-mesh/proto';
import {
  enqueueWebhookEvent,
  findApiKeyById,
  insertApiKey,
  listApiKeys,
  newId,
  revokeApiKey,
  rotateApiKey,
  updateApiKeySettings,
  type ApiKeyRow,
  type NewApiKey,
} from '@c2pa-mesh/storage';
import { existingProject, requiredProject, visibleTo } from '@c2pa-mesh/server';
import type { RegistryServiceDeps } from './deps.js';
import { apiKeyStatus, toApiKey } from './messages.js';
import { pageOf, pageRequest } from '@c2pa-mesh/storage';
import { boundedText, displayName, futureTimestamp, parseOrigins, parseScopes, requiredId } from './validation.js';

const DEFAULT_GRACE_HOURS = 48;
const MAX_GRACE_HOURS = 720;
const HOUR_MS = 3_600_000;

function maxAssetBytes(value: bigint): number {
  if (value < 0n) throw invalidArgument('max_asset_bytes must not be negative (0 selects the default of 100 MB)');
  if (value > BigInt(MAX_ASSET_BYTES_CEILING)) {
    throw invalidArgument(`max_asset_bytes may be at most ${MAX_ASSET_BYTES_CEILING} (200 MB), got ${value}`);
  }
  return value === 0n ? DEFAULT_MAX_ASSET_BYTES : Number(value);
}

function requestsPerMinute(value: number): number {
  if (value < 0) throw invalidArgument(`requests_per_minute must not be negative (0 selects the default of ${DEFAULT_REQUESTS_PER_MINUTE})`);
  if (value > MAX_REQUESTS_PER_MINUTE) throw invalidArgument(`requests_per_minute may be at most ${MAX_REQUESTS_PER_MINUTE}, got ${value}`);
  return value === 0 ? DEFAULT_REQUESTS_PER_MINUTE : value;
}

/** A key the caller may see; another project's key is reported like a missing one. */
async function visibleKey(deps: RegistryServiceDeps, ctx: HandlerContext, keyId: string): Promise<ApiKeyRow> {
  requiredId(keyId, 'key_id');
  return visibleTo(ctx, await findApiKeyById(deps.db, keyId), 'API key', keyId);
}

function newKeyRecord(settings: Omit<NewApiKey, 'id' | 'prefix' | 'secret_hash' | 'status'>): { key: string; record: NewApiKey } {
  const secret = generateApiKeySecret();
  return {
    key: secret.key,
    record: { ...settings, id: newId('key'), prefix: secret.displayPrefix, secret_hash: secret.hash, status: 'ACTIVE' },
  };
}

export async function createApiKey(deps: RegistryServiceDeps, req: registryV1.CreateApiKeyRequest, ctx: HandlerContext) {
  const name = displayName(req.name, 'name');
  const scopes = parseScopes(req.scopes);
  const settings = {
    max_asset_bytes: maxAssetBytes(req.maxAssetBytes),
    requests_per_minute: requestsPerMinute(req.requestsPerMinute),
    expires_at: req.expiresAt === '' ? null : futureTimestamp(req.expiresAt, 'expires_at'),
    allowed_origins: parseOrigins(req.allowedOrigins),
  };
  const project = await existingProject(deps.db, ctx, req.projectId);
  const { key, record } = newKeyRecord({ project_id: project.id, name, scopes, ...settings });
  const row = await insertApiKey(deps.db, record);
  return create(registryV1.CreateApiKeyResponseSchema, { key, keyId: row.id, apiKey: toApiKey(row) });
}

export async function listApiKeysHandler(deps: RegistryServiceDeps, req: registryV1.ListApiKeysRequest, ctx: HandlerContext) {
  const page = pageRequest(req);
  const projectId = requiredProject(ctx, req.projectId);
  const rows = await listApiKeys(deps.db, { projectId, includeInactive: req.includeRevoked, after: page.after, limit: page.fetch });
  const { rows: keys, nextPageToken } = pageOf(rows, page, (r) => r.created_at);
  return create(registryV1.ListApiKeysResponseSchema, { apiKeys: keys.map(toApiKey), nextPageToken });
}

export async function getApiKey(deps: RegistryServiceDeps, req: registryV1.GetApiKeyRequest, ctx: HandlerContext) {
  const row = await visibleKey(deps, ctx, req.keyId);
  return create(registryV1.GetApiKeyResponseSchema, { apiKey: toApiKey(row) });
}

export async function updateApiKey(deps: RegistryServiceDeps, req: registryV1.UpdateApiKeyRequest, ctx: HandlerContext) {
  requiredId(req.keyId, 'key_id');
  if (req.clearExpiry && req.expiresAt !== undefined) throw invalidArgument('set either expires_at or clear_expiry, not both');
  if (req.clearAllowedOrigins && req.allowedOrigins.length > 0) throw invalidArgument('set either allowed_origins or clear_allowed_origins, not both');
  const changes = {
    name: req.name !== undefined ? displayName(req.name, 'name') : undefined,
    scopes: req.scopes.length > 0 ? parseScopes(req.scopes) : undefined,
    maxAssetBytes: req.maxAssetBytes !== undefined ? maxAssetBytes(req.maxAssetBytes) : undefined,
    requestsPerMinute: req.requestsPerMinute !== undefined ? requestsPerMinute(req.requestsPerMinute) : undefined,
    expiresAt: req.clearExpiry ? null : req.expiresAt !== undefined ? futureTimestamp(req.expiresAt, 'expires_at') : undefined,
    allowedOrigins: req.clearAllowedOrigins ? [] : req.allowedOrigins.length > 0 ? parseOrigins(req.allowedOrigins) : undefined,
  };
  const current = await visibleKey(deps, ctx, req.keyId);
  const row = await updateApiKeySettings(deps.db, current.id, changes);
  if (!row) {
    const status = apiKeyStatus((await findApiKeyById(deps.db, current.id)) ?? current);
    throw failedPrecondition(`API key ${current.id} is ${status} and can no longer be changed; create a new key instead`);
  }
  return create(registryV1.UpdateApiKeyResponseSchema, { apiKey: toApiKey(row) });
}

export async function rotateApiKeyHandler(deps: RegistryServiceDeps, req: registryV1.RotateApiKeyRequest, ctx: HandlerContext) {
  requiredId(req.keyId, 'key_id');
  if (req.gracePeriodHours < 0 || req.gracePeriodHours > MAX_GRACE_HOURS) {
    throw invalidArgument(`grace_period_hours must be between 0 (the default of ${DEFAULT_GRACE_HOURS}) and ${MAX_GRACE_HOURS}, got ${req.gracePeriodHours}`);
  }
  const old = await visibleKey(deps, ctx, req.keyId);
  const refuse = (status: string) =>
    failedPrecondition(
      status === 'ROTATING'
        ? `API key ${old.id} was already rotated (its replacement is ${old.replaced_by_key_id}); rotate the replacement instead`
        : `API key ${old.id} is ${status}; only an ACTIVE key can be rotated`,
    );
  if (apiKeyStatus(old) !== 'ACTIVE') throw refuse(apiKeyStatus(old));
  const graceEndsAt = new Date(Date.now() + (req.gracePeriodHours || DEFAULT_GRACE_HOURS) * HOUR_MS);
  const { key, record } = newKeyRecord({
    project_id: old.project_id,
    name: old.name,
    scopes: old.scopes,
    max_asset_bytes: old.max_asset_bytes,
    requests_per_minute: old.requests_per_minute,
    allowed_origins: old.allowed_origins,
    expires_at: old.expires_at,
  });
  const rotated = await rotateApiKey(deps.db, old.id, record, graceEndsAt);
  if (!rotated) {
    // Changed between the read and the rotation (revoked, rotated, or expired meanwhile).
    const now = (await findApiKeyById(deps.db, old.id)) ?? old;
    throw refuse(apiKeyStatus(now));
  }
  return create(registryV1.RotateApiKeyResponseSchema, {
    key,
    keyId: rotated.replacement.id,
    apiKey: toApiKey(rotated.replacement),
    oldKeyExpiresAt: rotated.old.expires_at?.toISOString() ?? '',
  });
}

export async function revokeApiKeyHandler(deps: RegistryServiceDeps, req: registryV1.RevokeApiKeyRequest, ctx: HandlerContext) {
  const reason = boundedText(req.reason.trim(), 'reason', 500);
  const current = await visibleKey(deps, ctx, req.keyId);
  // Revocation and its webhook event commit together: no event for a revocation that failed.
  const revoked = await deps.db.transaction().execute(async (trx) => {
    const row = await revokeApiKey(trx, current.id, reason);
    if (row) {
      await enqueueWebhookEvent(trx, row.project_id, 'api_key.revoked', {
        key_id: row.id,
        name: row.name,
        prefix: row.prefix,
        revoked_at: row.revoked_at?.toISOString() ?? '',
        reason: row.revoke_reason ?? '',
      });
    }
    return row;
  });
  // Revoking a revoked key changes nothing and answers with the key as it is.
  const row = revoked ?? (await findApiKeyById(deps.db, current.id)) ?? current;
  return create(registryV1.RevokeApiKeyResponseSchema, { apiKey: toApiKey(row) });
}
