import { ACCESS_TOKEN_SHAPE } from '@c2pa-mesh/auth';
import type { CallerClients } from '@c2pa-mesh/clients';
import { failedPrecondition, invalidArgument, notFound } from '@c2pa-mesh/errors';
import type { accountV1 } from '@c2pa-mesh/proto';
import { PROJECT_HEADER } from '@c2pa-mesh/server';
import type { CallOptions } from '@connectrpc/connect';
import { callOptions } from './caller.js';
import { header, readBody, sendJson, type Exchange } from './exchange.js';
import type { RouteContext } from './gateway.js';

/**
 * Who a Certana call acts for. Certana's tenant is the organization; the mesh's is the project,
 * which organizations own. A Certana organization is a mesh organization and its first project
 * (made with it by `POST organizations/`, named by its slug).
 *
 * A person's access token from `auth/login` is made for no project: each call names the
 * organization's project in the `x-c2pa-project` header, and the mesh checks the person's role
 * there on that call, as for a token made for the project. Which organization: the one in the
 * `X-Organization-Id` header, else the person's first. API keys and client certificates act
 * for the project they belong to.
 */
export interface CertanaCaller {
  clients: CallerClients;
  options: CallOptions;
  /** The organization, when a person calls (API keys know only their project). */
  organization?: accountV1.Organization;
  /** Empty: the caller's own project (API keys). */
  projectId: string;
}

const MAX_JSON_BYTES = 64 * 1024;

export const ORGANIZATION_HEADER = 'x-organization-id';

export function isPersonToken(exchange: Exchange): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header(exchange.req, 'authorization') ?? '');
  return match !== null && ACCESS_TOKEN_SHAPE.test(match[1]);
}

/** The caller's organizations, when a person calls; undefined for keys and certificates. */
export async function organizationsOf(exchange: Exchange, clients: CallerClients): Promise<accountV1.Organization[] | undefined> {
  if (!isPersonToken(exchange)) return undefined;
  return (await clients.account.listOrganizations({}, callOptions(exchange))).organizations;
}

/** Options whose calls act on `projectId` (a person's token made for no project). */
export function actingOn(exchange: Exchange, projectId: string): CallOptions {
  const headers = new Headers(exchange.forwardedHeaders);
  headers.set(PROJECT_HEADER, projectId);
  return callOptions(exchange, headers);
}

export async function certanaCaller(exchange: Exchange, context: RouteContext): Promise<CertanaCaller> {
  const clients = context.clientsFor(exchange.peer);
  const organizations = await organizationsOf(exchange, clients);
  if (organizations === undefined) return { clients, options: callOptions(exchange), projectId: '' };
  const wanted = header(exchange.req, ORGANIZATION_HEADER);
  const organization = wanted ? organizations.find((o) => o.organizationId === wanted) : organizations.find((o) => o.projectIds.length > 0);
  if (wanted && !organization) throw notFound(`no organization ${wanted}`);
  if (!organization) throw failedPrecondition('you belong to no organization yet: create one with POST organizations/ (or accept an invitation)');
  const projectId = organization.projectIds[0];
  if (!projectId) throw failedPrecondition(`organization ${organization.organizationId} has no project yet: its owner or an admin creates one`);
  return { clients, options: actingOn(exchange, projectId), organization, projectId };
}

export function queryOf(exchange: Exchange): URLSearchParams {
  return new URL(exchange.req.url ?? '/', 'https://gateway').searchParams;
}

/** A whole number query parameter within bounds; absent: `fallback`. */
export function intParam(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw invalidArgument(`${name} must be a whole number from ${min} to ${max}`, { details: { field: name } });
  }
  return Number(raw);
}

/** An ISO 8601 date or date-time query parameter, as RFC 3339 UTC; absent: empty. */
export function dateParam(params: URLSearchParams, name: string): string {
  const raw = params.get(name);
  if (raw === null || raw === '') return '';
  const time = Date.parse(raw);
  if (!/^\d{4}-\d\d-\d\d/.test(raw) || Number.isNaN(time)) throw invalidArgument(`${name} must be an ISO 8601 date, e.g. 2024-01-15 or 2024-01-15T10:30:00Z`, { details: { field: name } });
  return new Date(time).toISOString();
}

/** Certana's pagination: `{items, total, page, page_size, pages}`. */
export function pageBody<T>(items: T[], total: number, page: number, pageSize: number) {
  return { items, total, page, page_size: pageSize, pages: Math.ceil(total / pageSize) };
}

/** Certana's envelope `{data, message, timestamp, request_id}`. */
export function envelope(exchange: Exchange, status: number, data: unknown, message: string): void {
  sendJson(exchange, status, { data, message, timestamp: new Date().toISOString(), request_id: exchange.requestId });
}

/** `sha256:<hex>` → the bare hex Certana shows. */
export function bareHash(hash: string): string {
  return hash.startsWith('sha256:') ? hash.slice('sha256:'.length) : hash;
}

/**
 * Walks a listing's page tokens to Certana's numbered page: the listings take tokens, Certana
 * takes page numbers. Reads at most `page * pageSize` entries.
 */
export async function numberedPage<T>(
  fetchPage: (pageSize: number, pageToken: string) => Promise<{ items: T[]; nextPageToken: string }>,
  page: number,
  pageSize: number,
): Promise<{ items: T[]; more: boolean; nextPageToken: string }> {
  const skip = (page - 1) * pageSize;
  const seen: T[] = [];
  let token = '';
  do {
    const batch = await fetchPage(Math.min(500, skip + pageSize - seen.length), token);
    seen.push(...batch.items);
    token = batch.nextPageToken;
  } while (token !== '' && seen.length < skip + pageSize);
  // Entries read past this page are counted by whoever walks on from the token.
  return { items: seen.slice(skip, skip + pageSize), more: token !== '' || seen.length > skip + pageSize, nextPageToken: token };
}

export async function jsonBody(exchange: Exchange): Promise<Record<string, unknown>> {
  const text = Buffer.from(await readBody(exchange, MAX_JSON_BYTES, 'the JSON body')).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalidArgument('the body must be JSON (Content-Type: application/json)');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidArgument('the body must be a JSON object');
  return body as Record<string, unknown>;
}

export function field(body: Record<string, unknown>, name: string, required = true): string {
  const value = body[name];
  if (value === undefined || value === null) {
    if (required) throw invalidArgument(`missing field "${name}"`, { details: { field: name } });
    return '';
  }
  if (typeof value !== 'string') throw invalidArgument(`"${name}" must be a string`, { details: { field: name } });
  return value;
}

