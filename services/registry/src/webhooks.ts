import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { invalidArgument } from '@c2pa-mesh/errors';
import { encryptPrivateKey } from '@c2pa-mesh/key-custody';
import { registryV1 } from '@c2pa-mesh/proto';
import {
  WEBHOOK_EVENTS,
  deleteWebhook,
  findWebhookById,
  insertWebhook,
  isWebhookEvent,
  listWebhookDeliveries,
  listWebhooks,
  newId,
  type WebhookEvent,
} from '@c2pa-mesh/storage';
import { existingProject, requiredProject, visibleTo } from '@c2pa-mesh/server';
import type { RegistryServiceDeps } from './deps.js';
import { toWebhook, toWebhookDelivery } from './messages.js';
import { pageOf, pageRequest } from '@c2pa-mesh/storage';
import { generateWebhookSecret } from './webhook-signature.js';
import { requiredId } from './validation.js';

function parseEvents(values: readonly string[]): WebhookEvent[] {
  if (values.length === 0) throw invalidArgument(`events must name at least one event: ${WEBHOOK_EVENTS.join(', ')}`);
  const events = new Set<WebhookEvent>();
  for (const value of values) {
    if (!isWebhookEvent(value)) throw invalidArgument(`events: unknown event "${value}"; events are ${WEBHOOK_EVENTS.join(', ')}`);
    events.add(value);
  }
  return WEBHOOK_EVENTS.filter((e) => events.has(e));
}

/** The sealed secret is bound to its webhook id, so it cannot be moved onto another webhook. */
export function webhookSecretAssociatedData(webhookId: string): string {
  return `webhook:${webhookId}`;
}

export async function createWebhook(deps: RegistryServiceDeps, req: registryV1.CreateWebhookRequest, ctx: HandlerContext) {
  const events = parseEvents(req.events);
  const url = await deps.webhookTargets.checkUrl(req.url);
  const project = await existingProject(deps.db, ctx, req.projectId);
  const id = newId('whk');
  const secret = generateWebhookSecret();
  const row = await insertWebhook(deps.db, {
    id,
    projectId: project.id,
    url,
    events,
    encryptedSecret: encryptPrivateKey(Buffer.from(secret, 'utf8'), deps.keyEncryptionKey, webhookSecretAssociatedData(id)),
  });
  return create(registryV1.CreateWebhookResponseSchema, { webhook: toWebhook(row), secret });
}

export async function listWebhooksHandler(deps: RegistryServiceDeps, req: registryV1.ListWebhooksRequest, ctx: HandlerContext) {
  const page = pageRequest(req);
  const projectId = requiredProject(ctx, req.projectId);
  const rows = await listWebhooks(deps.db, { projectId, after: page.after, limit: page.fetch });
  const { rows: webhooks, nextPageToken } = pageOf(rows, page, (r) => r.created_at);
  return create(registryV1.ListWebhooksResponseSchema, { webhooks: webhooks.map(toWebhook), nextPageToken });
}

export async function deleteWebhookHandler(deps: RegistryServiceDeps, req: registryV1.DeleteWebhookRequest, ctx: HandlerContext) {
  requiredId(req.webhookId, 'webhook_id');
  const webhook = visibleTo(ctx, await findWebhookById(deps.db, req.webhookId), 'webhook', req.webhookId);
  await deleteWebhook(deps.db, webhook.id);
  return create(registryV1.DeleteWebhookResponseSchema, {});
}

export async function listWebhookDeliveriesHandler(deps: RegistryServiceDeps, req: registryV1.ListWebhookDeliveriesRequest, ctx: HandlerContext) {
  requiredId(req.webhookId, 'webhook_id');
  const page = pageRequest(req);
  const webhook = visibleTo(ctx, await findWebhookById(deps.db, req.webhookId), 'webhook', req.webhookId);
  const rows = await listWebhookDeliveries(deps.db, { webhookId: webhook.id, after: page.after, limit: page.fetch });
  const { rows: deliveries, nextPageToken } = pageOf(rows, page, (r) => r.created_at);
  return create(registryV1.ListWebhookDeliveriesResponseSchema, { deliveries: deliveries.map(toWebhookDelivery), nextPageToken });
}
