import { SCOPES, isPublicScope, type PublicScope } from '@c2pa-mesh/auth';
import { invalidArgument } from '@c2pa-mesh/errors';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const SHA256 = /^sha256:([0-9a-f]{64})$/i;

/** An RFC 3339 time from a request field; the message names the field and the expected form. */
export function parseTimestamp(value: string, field: string): Date {
  const time = RFC3339.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) throw invalidArgument(`${field} must be an RFC 3339 time such as 2026-01-31T12:00:00Z, got "${value}"`);
  return new Date(time);
}

export function optionalTimestamp(value: string, field: string): Date | undefined {
  return value === '' ? undefined : parseTimestamp(value, field);
}

export function futureTimestamp(value: string, field: string): Date {
  const time = parseTimestamp(value, field);
  if (time.getTime() <= Date.now()) throw invalidArgument(`${field} must be in the future, got ${value}`);
  return time;
}

/** `sha256:<64 hex digits>`, returned in lower case. */
export function parseContentHash(value: string, field: string): string {
  const match = SHA256.exec(value.trim());
  if (!match) throw invalidArgument(`${field} must be "sha256:" followed by 64 hex digits, got "${value.slice(0, 80)}"`);
  return `sha256:${match[1].toLowerCase()}`;
}

export function requiredId(value: string, field: string): string {
  if (value === '') throw invalidArgument(`${field} is required`);
  return value;
}

/** A display name: trimmed, 1 to `max` characters. */
export function displayName(value: string, field: string, max = 100): string {
  const name = value.trim();
  if (name === '') throw invalidArgument(`${field} is required`);
  if (name.length > max) throw invalidArgument(`${field} may be at most ${max} characters, got ${name.length}`);
  return name;
}

export function boundedText(value: string, field: string, max: number): string {
  if (value.length > max) throw invalidArgument(`${field} may be at most ${max} characters, got ${value.length}`);
  return value;
}

/** Scopes to grant: at least one, each a public scope (`mesh.internal` cannot be granted). */
export function parseScopes(values: readonly string[], field = 'scopes'): PublicScope[] {
  if (values.length === 0) throw invalidArgument(`${field} must name at least one scope: ${SCOPES.join(', ')}`);
  const scopes = new Set<PublicScope>();
  for (const value of values) {
    if (!isPublicScope(value)) throw invalidArgument(`${field}: unknown scope "${value}"; scopes are ${SCOPES.join(', ')}`);
    scopes.add(value);
  }
  return SCOPES.filter((s) => scopes.has(s));
}

/** Browser origins (`https://app.example.com[:port]`), normalised as the Origin header sends them. */
export function parseOrigins(values: readonly string[], field = 'allowed_origins'): string[] {
  const origins = new Set<string>();
  for (const value of values) {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    const bare = value.replace(/\/$/, '');
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin.toLowerCase() !== bare.toLowerCase()) {
      throw invalidArgument(`${field}: "${value}" is not an origin such as https://app.example.com (scheme, host and optional port; no path)`);
    }
    origins.add(url.origin);
  }
  if (origins.size > 50) throw invalidArgument(`${field} may list at most 50 origins`);
  return [...origins];
}

/** Tags: trimmed, non-empty, at most 100 characters each and 50 in all, duplicates dropped. */
export function parseTags(values: readonly string[], field = 'tags'): string[] {
  const tags: string[] = [];
  for (const value of values) {
    const tag = value.trim();
    if (tag === '') throw invalidArgument(`${field} must not contain empty tags`);
    if (tag.length > 100) throw invalidArgument(`${field}: a tag may be at most 100 characters ("${tag.slice(0, 20)}…")`);
    if (!tags.includes(tag)) tags.push(tag);
  }
  if (tags.length > 50) throw invalidArgument(`an asset may carry at most 50 tags, got ${tags.length}`);
  return tags;
}

export function oneOf<T extends string>(value: string, allowed: readonly T[], field: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw invalidArgument(`${field} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}
