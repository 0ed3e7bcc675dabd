import { isPublicScope, type PublicScope } from '@c2pa-mesh/auth';
import { invalidArgument, notFound, unauthenticated } from '@c2pa-mesh/errors';
import type { accountV1, registryV1 } from '@c2pa-mesh/proto';
import { callOptions } from './caller.js';
import { actingOn, certanaCaller, envelope, field, jsonBody, organizationsOf, type CertanaCaller } from './certana-caller.js';
import { header, send, type Exchange } from './exchange.js';
import type { RouteContext } from './gateway.js';

/**
 * Certana's organizations, API keys and webhooks under `/certana/v1/`, as the mesh's
 * organizations (AccountService), API keys and webhooks (RegistryService) of the organization's
 * project.
 */

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/**
 * Certana's API key scopes and the mesh scopes each gives: `read` registry.read, `verify`
 * verify, `write` (and its synonym `upload`) sign and registry.write (upload, edit and delete
 * assets), `admin` admin on the organization's project. A key shows the Certana names its mesh
 * scopes amount to.
 */
export const CERTANA_SCOPES: Record<string, readonly PublicScope[]> = {
  read: ['registry.read'],
  verify: ['verify'],
  write: ['sign', 'registry.write'],
  upload: ['sign', 'registry.write'],
  admin: ['admin'],
};

export function meshScopesOf(scopes: readonly string[]): PublicScope[] {
  const granted = new Set<PublicScope>();
  for (const scope of scopes) {
    const mesh = CERTANA_SCOPES[scope] ?? (isPublicScope(scope) ? [scope] : undefined);
    if (!mesh) throw invalidArgument(`unknown scope "${scope}": use ${Object.keys(CERTANA_SCOPES).join(', ')}`, { details: { field: 'scopes' } });
    for (const s of mesh) granted.add(s);
  }
  return [...granted];
}

export function certanaScopesOf(meshScopes: readonly string[]): string[] {
  const has = new Set(meshScopes);
  return ['read', 'verify', 'write', 'admin'].filter((name) => CERTANA_SCOPES[name].every((s) => has.has(s)));
}

function stringList(body: Record<string, unknown>, name: string): string[] {
  const value = body[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw invalidArgument(`"${name}" must be an array of strings`, { details: { field: name } });
  return value;
}

async function organizationView(caller: Pick<CertanaCaller, 'clients'>, exchange: Exchange, org: accountV1.Organization) {
  const projectId = org.projectIds[0];
  const options = actingOn(exchange, projectId ?? '');
  const project = projectId ? (await caller.clients.registry.getProject({ projectId }, options)).project : undefined;
  return {
    id: org.organizationId,
    name: org.name,
    slug: project?.name ?? null,
    // The mesh has one set of limits for every organization: no plan is kept.
    plan: null,
    role: org.role,
    project_id: projectId ?? null,
    created_at: org.createdAt,
  };
}

/** `POST organizations/` {name, slug, plan} → 201: the organization and its project, named by the slug. */
async function createOrganization(exchange: Exchange, context: RouteContext): Promise<void> {
  const body = await jsonBody(exchange);
  const name = field(body, 'name');
  const slug = field(body, 'slug', false) || name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  if (!SLUG.test(slug)) throw invalidArgument('slug must be 1 to 64 lowercase letters, digits and inner hyphens, e.g. acme-corp', { details: { field: 'slug' } });
  field(body, 'plan', false);
  const clients = context.clientsFor(exchange.peer);
  const options = callOptions(exchange);
  const { user } = await clients.account.getCurrentUser({}, options);
  const { organization } = await clients.account.createOrganization({ name }, options);
  const { projectId } = await clients.account.createOrganizationProject({ organizationId: organization!.organizationId, name: slug, description: `${name} (Certana organization)` }, options);
  const view = await organizationView({ clients }, exchange, { ...organization!, projectIds: [projectId] });
  envelope(exchange, 201, { ...view, owner_id: user!.userId }, 'Organization created');
}

async function personOrganizations(exchange: Exchange, context: RouteContext) {
  const clients = context.clientsFor(exchange.peer);
  const organizations = await organizationsOf(exchange, clients);
  if (!organizations) throw unauthenticated('organizations are listed for a person: send "Authorization: Bearer <access token>" from auth/login');
  return { clients, organizations };
}

/** `GET organizations/` → `{items, total}`. */
async function listOrganizations(exchange: Exchange, context: RouteContext): Promise<void> {
  const { clients, organizations } = await personOrganizations(exchange, context);
  const items = await Promise.all(organizations.map((org) => organizationView({ clients }, exchange, org)));
  envelope(exchange, 200, { items, total: items.length }, 'Organizations retrieved');
}

/** `GET organizations/{id}` → the organization with members_count and assets_count; another's: not_found. */
async function getOrganization(exchange: Exchange, context: RouteContext, id: string): Promise<void> {
  const { clients, organizations } = await personOrganizations(exchange, context);
  const org = organizations.find((o) => o.organizationId === id);
  if (!org) throw notFound(`no organization ${id}`);
  const options = actingOn(exchange, org.projectIds[0] ?? '');
  const [view, members, assets] = await Promise.all([
    organizationView({ clients }, exchange, org),
    clients.account.listMembers({ organizationId: id }, callOptions(exchange)),
    Promise.all(org.projectIds.map((projectId) => clients.registry.listAssets({ projectId, pageSize: 1 }, options))),
  ]);
  const assetsCount = assets.reduce((sum, page) => sum + Number(page.totalSize), 0);
  envelope(exchange, 200, { ...view, members_count: members.members.length, assets_count: assetsCount }, 'Organization retrieved');
}

function apiKeyView(key: registryV1.ApiKey) {
  return {
    id: key.keyId,
    // The secret is shown once, at creation; lists show its first characters.
    key: `${key.prefix}…`,
    name: key.name,
    scopes: certanaScopesOf(key.scopes),
    mesh_scopes: key.scopes,
    expires_at: key.expiresAt || null,
    created_at: key.createdAt,
    last_used_at: key.lastUsedAt || null,
    is_active: key.status === 'ACTIVE' || key.status === 'ROTATING',
  };
}

/** `POST api-keys/` {name, scopes, expires_in_days} → 201 with the key, shown this once. */
async function createApiKey(exchange: Exchange, context: RouteContext): Promise<void> {
  const caller = await certanaCaller(exchange, context);
  const body = await jsonBody(exchange);
  const scopes = meshScopesOf(stringList(body, 'scopes'));
  if (scopes.length === 0) throw invalidArgument('scopes must name at least one of read, verify, write, admin', { details: { field: 'scopes' } });
  const days = body.expires_in_days;
  if (days !== undefined && days !== null && (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 3650)) {
    throw invalidArgument('expires_in_days must be a whole number of days from 1 to 3650', { details: { field: 'expires_in_days' } });
  }
  const expiresAt = typeof days === 'number' ? new Date(Date.now() + days * 86_400_000).toISOString() : '';
  const created = await caller.clients.registry.createApiKey({ projectId: caller.projectId, name: field(body, 'name'), scopes, expiresAt }, caller.options);
  envelope(exchange, 201, { ...apiKeyView(created.apiKey!), key: created.key }, 'API key created: store it now, it is not shown again');
}

/** `GET api-keys/` → `{items, total}` (revoked keys left out). */
async function listApiKeys(exchange: Exchange, context: RouteContext): Promise<void> {
  const caller = await certanaCaller(exchange, context);
  const { apiKeys } = await caller.clients.registry.listApiKeys({ projectId: caller.projectId, pageSize: 500 }, caller.options);
  envelope(exchange, 200, { items: apiKeys.map(apiKeyView), total: apiKeys.length }, 'API keys retrieved');
}

/**
 * `POST api-keys/validate` with `X-API-Key`: the mesh's own authentication decides. The rate
 * limit is the key's per-minute limit, as the most it allows per hour and per day.
 */
async function validateApiKey(exchange: Exchange, context: RouteContext): Promise<void> {
  const key = header(exchange.req, 'x-api-key');
  if (!key) throw unauthenticated('send the API key to check in the X-API-Key header');
  const identity = await context.resolver.resolve({ bearerToken: key });
  if (!identity || identity.kind !== 'API_KEY') throw unauthenticated('invalid API key');
  const perMinute = identity.limits?.requestsPerMinute ?? 0;
  envelope(
    exchange,
    200,
    {
      valid: true,
      scopes: certanaScopesOf([...identity.scopes]),
      mesh_scopes: [...identity.scopes],
      key_id: identity.id,
      name: identity.keyName ?? '',
      is_active: true,
      expires_at: identity.expiresAt?.toISOString() ?? null,
      rate_limit: { per_minute: perMinute, per_hour: perMinute * 60, per_day: perMinute * 1440 },
    },
    'API key is valid',
  );
}

/** `DELETE api-keys/{id}` → 204. */
async function revokeApiKey(exchange: Exchange, context: RouteContext, keyId: string): Promise<void> {
  const caller = await certanaCaller(exchange, context);
  await caller.clients.registry.revokeApiKey({ keyId, reason: 'revoked through the Certana API' }, caller.options);
  send(exchange, 204, new Uint8Array(), {});
}

/** Certana's webhook events and the mesh's. */
const WEBHOOK_EVENTS: Record<string, string> = { 'asset.processed': 'asset.signed', 'verification.completed': 'verification.completed' };
const CERTANA_EVENTS = new Map(Object.entries(WEBHOOK_EVENTS).map(([certana, mesh]) => [mesh, certana]));

function webhookView(webhook: registryV1.Webhook) {
  return { id: webhook.webhookId, url: webhook.url, events: webhook.events.map((e) => CERTANA_EVENTS.get(e) ?? e), active: true, created_at: webhook.createdAt };
}

/** `POST webhooks/` {url, events, active} → 201 with the signing secret, shown once. */
async function createWebhook(exchange: Exchange, context: RouteContext): Promise<void> {
  const caller = await certanaCaller(exchange, context);
  const body = await jsonBody(exchange);
  if (body.active === false) throw invalidArgument('the mesh keeps no inactive webhooks: leave "active" out or true, and delete a webhook to stop it', { details: { field: 'active' } });
  const events = stringList(body, 'events').map((e) => WEBHOOK_EVENTS[e] ?? e);
  const created = await caller.clients.registry.createWebhook({ projectId: caller.projectId, url: field(body, 'url'), events }, caller.options);
  envelope(exchange, 201, { ...webhookView(created.webhook!), secret: created.secret }, 'Webhook created: deliveries are signed with this secret (HMAC-SHA256 of the body)');
}

/** `GET webhooks/` → `{items, total}`. */
async function listWebhooks(exchange: Exchange, context: RouteContext): Promise<void> {
  const caller = await certanaCaller(exchange, context);
  const { webhooks } = await caller.clients.registry.listWebhooks({ projectId: caller.projectId, pageSize: 500 }, caller.options);
  envelope(exchange, 200, { items: webhooks.map(webhookView), total: webhooks.length }, 'Webhooks retrieved');
}

export const ORGANIZATION_ROUTES = {
  'POST organizations/': createOrganization,
  'GET organizations/': listOrganizations,
  'GET organizations/*': getOrganization,
  'POST api-keys/': createApiKey,
  'GET api-keys/': listApiKeys,
  'POST api-keys/validate': validateApiKey,
  'DELETE api-keys/*': revokeApiKey,
  'POST webhooks/': createWebhook,
  'GET webhooks/': listWebhooks,
};
