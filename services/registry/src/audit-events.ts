import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { registryV1 } from '@c2pa-mesh/proto';
import { listAuditEvents } from '@c2pa-mesh/storage';
import { requestedProject } from '@c2pa-mesh/server';
import type { RegistryServiceDeps } from './deps.js';
import { toAuditEvent } from './messages.js';
import { pageOf, pageRequest } from '@c2pa-mesh/storage';
import { boundedText, oneOf, optionalTimestamp } from './validation.js';

const STATUSES = { SUCCESS: 'ok', ERROR: 'error' } as const;

export async function listAuditEventsHandler(deps: RegistryServiceDeps, req: registryV1.ListAuditEventsRequest, ctx: HandlerContext) {
  const page = pageRequest(req);
  const status = req.status === '' ? undefined : STATUSES[oneOf(req.status.toUpperCase(), ['SUCCESS', 'ERROR'] as const, 'status')];
  const rows = await listAuditEvents(deps.db, {
    projectId: requestedProject(ctx, req.projectId),
    operation: req.operation === '' ? undefined : boundedText(req.operation, 'operation', 100),
    status,
    since: optionalTimestamp(req.since, 'since'),
    until: optionalTimestamp(req.until, 'until'),
    after: page.after,
    limit: page.fetch,
  });
  const { rows: events, nextPageToken } = pageOf(rows, page, (r) => r.occurred_at);
  return create(registryV1.ListAuditEventsResponseSchema, { events: events.map(toAuditEvent), nextPageToken });
}
