import { connect, type ConnectionOptions } from '../connection.js';
import { CliError, formatBytes, formatTable, write, writeJson, type CliIo } from '../io.js';

export interface JsonOption {
  json?: boolean;
}

/** Every page of a paginated list: the CLI shows whole lists, not first pages. */
async function allPages<T>(fetchPage: (pageToken: string) => Promise<{ items: T[]; nextPageToken: string }>, limit = Number.POSITIVE_INFINITY): Promise<T[]> {
  const items: T[] = [];
  let token = '';
  do {
    const page = await fetchPage(token);
    items.push(...page.items);
    token = page.nextPageToken;
  } while (token !== '' && items.length < limit);
  return items.slice(0, limit);
}

// ── projects ──────────────────────────────────────────────────────────────────────────────

export async function createProject(name: string, options: ConnectionOptions & JsonOption & { description?: string }, io: CliIo): Promise<number> {
  const { project } = await connect(options, io).registry.createProject({ name, description: options.description ?? '' });
  if (options.json) writeJson(io, project);
  else write(io.stdout, formatTable(['PROJECT', 'NAME', 'CREATED'], [[project!.projectId, project!.name, project!.createdAt]]));
  return 0;
}

export async function listProjects(options: ConnectionOptions & JsonOption, io: CliIo): Promise<number> {
  const registry = connect(options, io).registry;
  const projects = await allPages(async (pageToken) => {
    const page = await registry.listProjects({ pageSize: 500, pageToken });
    return { items: page.projects, nextPageToken: page.nextPageToken };
  });
  if (options.json) writeJson(io, projects);
  else write(io.stdout, formatTable(['PROJECT', 'NAME', 'CREATED', 'DEFAULT SIGNER'], projects.map((p) => [p.projectId, p.name, p.createdAt, p.defaultSignerId])));
  return 0;
}

// ── API keys ──────────────────────────────────────────────────────────────────────────────

export interface CreateKeyOptions extends ConnectionOptions, JsonOption {
  project?: string;
  name: string;
  scope?: string[];
  maxAssetBytes?: number;
  requestsPerMinute?: number;
  expiresAt?: string;
  origin?: string[];
}

export async function createKey(options: CreateKeyOptions, io: CliIo): Promise<number> {
  const created = await connect(options, io).registry.createApiKey({
    projectId: options.project ?? '',
    name: options.name,
    scopes: options.scope && options.scope.length > 0 ? options.scope : ['sign', 'verify'],
    maxAssetBytes: BigInt(options.maxAssetBytes ?? 0),
    requestsPerMinute: options.requestsPerMinute ?? 0,
    expiresAt: options.expiresAt ?? '',
    allowedOrigins: options.origin ?? [],
  });
  if (options.json) writeJson(io, { key: created.key, keyId: created.keyId, apiKey: created.apiKey });
  else {
    write(io.stdout, `key ${created.keyId} created for project ${created.apiKey?.projectId} with scopes ${created.apiKey?.scopes.join(', ')}`);
    write(io.stdout, `secret (shown this once; store it now): ${created.key}`);
  }
  return 0;
}

export async function listKeys(options: ConnectionOptions & JsonOption & { project?: string; all?: boolean }, io: CliIo): Promise<number> {
  const registry = connect(options, io).registry;
  const keys = await allPages(async (pageToken) => {
    const page = await registry.listApiKeys({ projectId: options.project ?? '', includeRevoked: Boolean(options.all), pageSize: 500, pageToken });
    return { items: page.apiKeys, nextPageToken: page.nextPageToken };
  });
  if (options.json) writeJson(io, keys);
  else {
    const rows = keys.map((k) => [k.keyId, k.name, k.prefix, k.status, k.scopes.join(','), k.expiresAt || 'never', k.lastUsedAt || 'never', String(k.requestCount)]);
    write(io.stdout, formatTable(['KEY', 'NAME', 'PREFIX', 'STATUS', 'SCOPES', 'EXPIRES', 'LAST USED', 'REQUESTS'], rows));
  }
  return 0;
}

export async function rotateKey(keyId: string, options: ConnectionOptions & JsonOption & { graceHours?: number }, io: CliIo): Promise<number> {
  const rotated = await connect(options, io).registry.rotateApiKey({ keyId, gracePeriodHours: options.graceHours ?? 0 });
  if (options.json) writeJson(io, { key: rotated.key, keyId: rotated.keyId, oldKeyExpiresAt: rotated.oldKeyExpiresAt, apiKey: rotated.apiKey });
  else {
    write(io.stdout, `key ${rotated.keyId} replaces ${keyId}; the old key works until ${rotated.oldKeyExpiresAt}`);
    write(io.stdout, `secret (shown this once; store it now): ${rotated.key}`);
  }
  return 0;
}

export async function revokeKey(keyId: string, options: ConnectionOptions & JsonOption & { reason?: string }, io: CliIo): Promise<number> {
  const { apiKey } = await connect(options, io).registry.revokeApiKey({ keyId, reason: options.reason ?? '' });
  if (options.json) writeJson(io, apiKey);
  else write(io.stdout, `key ${keyId} revoked at ${apiKey?.revokedAt}${apiKey?.revokeReason ? ` (${apiKey.revokeReason})` : ''}`);
  return 0;
}

// ── audit log and usage ───────────────────────────────────────────────────────────────────

export interface AuditOptions extends ConnectionOptions, JsonOption {
  project?: string;
  operation?: string;
  status?: string;
  since?: string;
  until?: string;
  limit: number;
}

/** The audit log, newest first, in the columns of the dashboards users know. */
export async function listAudit(options: AuditOptions, io: CliIo): Promise<number> {
  const registry = connect(options, io).registry;
  const status = options.status?.toUpperCase();
  if (status && !['SUCCESS', 'ERROR'].includes(status)) throw new CliError('--status is SUCCESS or ERROR', 2);
  const events = await allPages(async (pageToken) => {
    const page = await registry.listAuditEvents({
      projectId: options.project ?? '',
      operation: options.operation ?? '',
      status: status ?? '',
      since: options.since ?? '',
      until: options.until ?? '',
      pageSize: Math.min(500, options.limit),
      pageToken,
    });
    return { items: page.events, nextPageToken: page.nextPageToken };
  }, options.limit);
  if (options.json) writeJson(io, events);
  else {
    const rows = events.map((e) => [e.occurredAt, e.operation, e.format, e.code, e.projectId, e.clientIp, e.sizeBytes > 0n ? formatBytes(Number(e.sizeBytes)) : '', `${e.durationMs} ms`, e.error.slice(0, 80), e.requestId]);
    write(io.stdout, formatTable(['TIME', 'OP', 'FORMAT', 'STATUS', 'PROJECT', 'CLIENT IP', 'SIZE', 'DURATION', 'ERROR', 'REQUEST ID'], rows));
  }
  return 0;
}

export async function showStats(options: ConnectionOptions & JsonOption & { project?: string }, io: CliIo): Promise<number> {
  const stats = await connect(options, io).registry.getUsageStats({ projectId: options.project ?? '' });
  if (options.json) {
    writeJson(io, stats);
    return 0;
  }
  write(io.stdout, `today ${stats.todayRequests} requests, this week ${stats.weekRequests}; last 30 days: ${(stats.successRate * 100).toFixed(1)}% succeeded, ${stats.averageDurationMs.toFixed(0)} ms on average`);
  write(io.stdout, '');
  const projects = stats.projects.map((p) => [p.projectName || p.projectId, String(p.requests), String(p.successes), String(p.errors), String(p.signs), String(p.verifies), p.averageMs.toFixed(0), p.lastUsedAt]);
  write(io.stdout, formatTable(['PROJECT', 'REQUESTS', 'SUCCESS', 'ERRORS', 'SIGNS', 'VERIFIES', 'AVG MS', 'LAST USED'], projects));
  if (stats.byFormat.length > 0) {
    write(io.stdout, '');
    write(io.stdout, formatTable(['FORMAT', 'CALLS'], stats.byFormat.map((f) => [f.format, String(f.count)])));
  }
  return 0;
}
