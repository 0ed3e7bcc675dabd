import { AccountService, CertificateAuthorityService, Health, RegistryService, ServerReflection, SigningService, VerificationService } from '@c2pa-mesh/proto';
import type { AuditRecord, AuditSink } from '@c2pa-mesh/server';
import { type Database, insertAuditEvent, recordApiKeyUse } from '@c2pa-mesh/storage';

/** The interceptor names services briefly (`signing`); the audit log keeps the full name. */
const FULL_SERVICE_NAMES = new Map(
  [SigningService, VerificationService, CertificateAuthorityService, RegistryService, AccountService, Health, ServerReflection].map((s) => {
    const parts = s.typeName.split('.');
    return [parts[parts.length - 3], s.typeName] as const;
  }),
);

/**
 * Audit events into the database; never the request or response bodies, never secrets. Calls
 * made with an API key also count on the key (last used, requests, successes, errors).
 */
export function createAuditSink(db: Database): AuditSink {
  return {
    async record(event: AuditRecord) {
      const written = insertAuditEvent(db, {
        service: FULL_SERVICE_NAMES.get(event.service) ?? event.service,
        operation: event.operation,
        status: event.status,
        code: event.code,
        project_id: event.projectId ?? null,
        identity: event.identity?.id ?? '',
        identity_kind: event.identity?.kind ?? 'ANONYMOUS',
        format: event.format ?? '',
        size_bytes: event.sizeBytes ?? 0,
        duration_ms: event.durationMs,
        client_ip: event.clientIp,
        error: (event.error ?? '').slice(0, 1000),
        request_id: event.requestId,
      });
      const counted = event.identity?.kind === 'API_KEY' ? recordApiKeyUse(db, event.identity.id, event.status === 'ok') : undefined;
      await Promise.all([written, counted]);
    },
  };
}
