import { create } from '@bufbuild/protobuf';
import { registryV1 } from '@c2pa-mesh/proto';
import type {
  ApiKeyRow,
  AssetRow,
  AuditEventRow,
  ClientBindingRow,
  ProjectRow,
  VerificationRow,
  WebhookDeliveryRow,
  WebhookRow,
} from '@c2pa-mesh/storage';

const iso = (time: Date | null | undefined) => (time ? time.toISOString() : '');

export function toProject(row: ProjectRow): registryV1.Project {
  return create(registryV1.ProjectSchema, {
    projectId: row.id,
    name: row.name,
    description: row.description,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    defaultSignerId: row.default_signer_id ?? '',
  });
}

/** The status callers see: EXPIRED is derived from the expiry, never stored. */
export function apiKeyStatus(row: Pick<ApiKeyRow, 'status' | 'expires_at'>, now = Date.now()): string {
  if (row.status === 'REVOKED') return 'REVOKED';
  if (row.expires_at && row.expires_at.getTime() <= now) return 'EXPIRED';
  return row.status;
}

/** Never the secret: only its hash is stored, and not even that leaves the registry. */
export function toApiKey(row: ApiKeyRow): registryV1.ApiKey {
  return create(registryV1.ApiKeySchema, {
    keyId: row.id,
    projectId: row.project_id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    status: apiKeyStatus(row),
    createdAt: iso(row.created_at),
    expiresAt: iso(row.expires_at),
    lastUsedAt: iso(row.last_used_at),
    revokedAt: iso(row.revoked_at),
    revokeReason: row.revoke_reason ?? '',
    maxAssetBytes: BigInt(row.max_asset_bytes),
    requestsPerMinute: row.requests_per_minute,
    allowedOrigins: row.allowed_origins,
    requestCount: BigInt(row.request_count),
    successCount: BigInt(row.success_count),
    errorCount: BigInt(row.error_count),
    replacedByKeyId: row.replaced_by_key_id ?? '',
  });
}

export function toClientBinding(row: ClientBindingRow): registryV1.ClientBinding {
  return create(registryV1.ClientBindingSchema, {
    bindingId: row.id,
    projectId: row.project_id,
    name: row.name,
    spkiSha256: row.spki_sha256 ?? '',
    sanUri: row.san_uri ?? '',
    scopes: row.scopes,
    createdAt: iso(row.created_at),
  });
}

/**
 * `provenanceOnly`: for callers outside the asset's project (hash lookups cross projects, since
 * anyone holding a file may check it): what was signed, when and by which signer, without the
 * owner's own descriptions, tags, project or request.
 */
export function toAsset(row: AssetRow, options: { provenanceOnly?: boolean } = {}): registryV1.Asset {
  const own = !options.provenanceOnly;
  return create(registryV1.AssetSchema, {
    assetId: row.id,
    projectId: own ? row.project_id : '',
    kind: row.kind,
    assetSha256: row.asset_sha256,
    inputSha256: row.input_sha256 ?? row.asset_sha256,
    format: row.format,
    sizeBytes: BigInt(row.size_bytes),
    signerId: row.signer_id ?? '',
    certificateId: row.certificate_id ?? '',
    manifestLabel: row.manifest_label ?? '',
    title: own ? row.title : '',
    description: own ? row.description : '',
    tags: own ? row.tags : [],
    status: row.status,
    requestId: own ? row.request_id : '',
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    signedAt: iso(row.signed_at),
    contentType: row.content_type ?? '',
    headline: row.headline ?? '',
    author: row.author ?? '',
    payloadJson: row.payload_json ?? '',
    ...(row.log_index === null || row.log_index === undefined ? {} : { logIndex: BigInt(row.log_index) }),
  });
}

export function toVerificationRecord(row: VerificationRow): registryV1.VerificationRecord {
  return create(registryV1.VerificationRecordSchema, {
    verificationId: row.id,
    assetSha256: row.asset_sha256,
    validationState: row.validation_state,
    format: row.format,
    signer: row.signer,
    projectId: row.project_id ?? '',
    requestId: row.request_id,
    verifiedAt: iso(row.verified_at),
    source: row.source,
    errorCount: row.error_count,
    firstErrorCode: row.first_error_code,
  });
}

export function toAuditEvent(row: AuditEventRow): registryV1.AuditEvent {
  return create(registryV1.AuditEventSchema, {
    eventId: row.id,
    occurredAt: iso(row.occurred_at),
    operation: row.operation,
    status: row.status === 'ok' ? 'SUCCESS' : 'ERROR',
    code: row.code,
    requestId: row.request_id,
    projectId: row.project_id ?? '',
    format: row.format,
    sizeBytes: BigInt(row.size_bytes),
    durationMs: BigInt(row.duration_ms),
    clientIp: row.client_ip,
    error: row.error,
    identity: row.identity,
    identityKind: row.identity_kind,
    service: row.service,
  });
}

export function toWebhook(row: WebhookRow): registryV1.Webhook {
  return create(registryV1.WebhookSchema, {
    webhookId: row.id,
    projectId: row.project_id,
    url: row.url,
    events: row.events,
    createdAt: iso(row.created_at),
  });
}

export function toWebhookDelivery(row: WebhookDeliveryRow): registryV1.WebhookDelivery {
  return create(registryV1.WebhookDeliverySchema, {
    deliveryId: row.id,
    webhookId: row.webhook_id,
    event: row.event,
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.last_status_code ?? 0,
    lastError: row.last_error ?? '',
    nextAttemptAt: row.status === 'PENDING' ? iso(row.next_attempt_at) : '',
    createdAt: iso(row.created_at),
    deliveredAt: iso(row.delivered_at),
  });
}
