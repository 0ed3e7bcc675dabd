import type { AuditRecord, AuditSink } from '@c2pa-mesh/server';
import { type Database, insertAuditEvent } from '@c2pa-mesh/storage';

/** Audit events into the database; never the request or response bodies, never secrets. */
export function createAuditSink(db: Database): AuditSink {
  return {
    async record(event: AuditRecord) {
      await insertAuditEvent(db, {
        service: event.service,
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
    },
  };
}
