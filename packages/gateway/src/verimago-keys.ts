import { notFound } from '@c2pa-mesh/errors';
import type { registryV1 } from '@c2pa-mesh/proto';
import { callOptions } from './caller.js';
import { sendJson, type Exchange } from './exchange.js';
import type { RouteContext } from './gateway.js';
import { jsonObject, projectCaller, stringField } from './verimago-http.js';

/**
 * What a Verimago API key may do: sign, verify and read its organization's records and
 * certificates. Making and revoking keys stays with the people who log in (owner or admin).
 */
export const VERIMAGO_KEY_SCOPES = ['sign', 'verify', 'registry.read'];

/** Keys listed at most; an account with more is told to use the RegistryService API. */
const MAX_LISTED = 1000;

function listItem(key: registryV1.ApiKey) {
  return { id: key.keyId, name: key.name, keyPrefix: key.prefix, createdAt: key.createdAt, lastUsedAt: key.lastUsedAt || null };
}

/** `GET keys` → {items, total}: the active keys of the caller's organization project. */
export async function listVerimagoKeys(exchange: Exchange, context: RouteContext): Promise<void> {
  await projectCaller(exchange, context);
  const { registry } = context.clientsFor(exchange.peer);
  const options = callOptions(exchange);
  const items: ReturnType<typeof listItem>[] = [];
  let pageToken = '';
  do {
    const page = await registry.listApiKeys({ pageSize: 500, pageToken }, options);
    items.push(...page.apiKeys.map(listItem));
    pageToken = page.nextPageToken;
  } while (pageToken !== '' && items.length < MAX_LISTED);
  sendJson(exchange, 200, { items, total: items.length });
}

/** `POST keys` {name} → 201 with the key itself, shown this once. */
export async function createVerimagoKey(exchange: Exchange, context: RouteContext): Promise<void> {
  await projectCaller(exchange, context);
  const body = await jsonObject(exchange);
  const name = stringField(body, 'name');
  const created = await context.clientsFor(exchange.peer).registry.createApiKey({ name, scopes: VERIMAGO_KEY_SCOPES }, callOptions(exchange));
  const key = created.apiKey!;
  sendJson(exchange, 201, { id: key.keyId, name: key.name, apiKey: created.key, keyPrefix: key.prefix, createdAt: key.createdAt, scopes: key.scopes });
}

/** `POST keys/{id}/revoke`: refused at once on every instance (keys are checked on every call). */
export async function revokeVerimagoKey(exchange: Exchange, context: RouteContext, rest: string): Promise<void> {
  const match = /^([^/]+)\/revoke$/.exec(rest);
  if (!match) throw notFound(`no such endpoint: ${exchange.method} ${exchange.path}`);
  await projectCaller(exchange, context);
  const body = await jsonObject(exchange);
  const reason = stringField(body, 'reason', false);
  const { apiKey } = await context.clientsFor(exchange.peer).registry.revokeApiKey({ keyId: match[1], reason }, callOptions(exchange));
  sendJson(exchange, 200, { id: apiKey!.keyId, name: apiKey!.name, revoked: true, revokedAt: apiKey!.revokedAt });
}
