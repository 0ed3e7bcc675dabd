import { invalidArgument } from '@c2pa-mesh/errors';
import { normalizeDomain } from '@c2pa-mesh/mc4p';

const FIELD_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_FIELDS = 50;
const MAX_FIELD_VALUE = 2048;
const MAX_DOMAINS = 100;

/** Authorized domains from a request: at least one, normalised, duplicates dropped, sorted. */
export function parseAuthorizedDomains(values: readonly string[], field = 'authorized_domains'): string[] {
  if (values.length === 0) throw invalidArgument(`${field} must name at least one domain, such as merchant.example`);
  const domains = new Set<string>();
  for (const value of values) {
    const domain = normalizeDomain(value);
    if (domain === undefined) throw invalidArgument(`${field}: "${value.slice(0, 100)}" is not a host name such as merchant.example (no scheme, path or port)`);
    domains.add(domain);
  }
  if (domains.size > MAX_DOMAINS) throw invalidArgument(`${field} may list at most ${MAX_DOMAINS} domains, got ${domains.size}`);
  return [...domains].sort();
}

/** Bound context fields: named like `productId`, values bounded, keys sorted for stable proofs. */
export function parseBoundFields(values: Record<string, string>, field = 'bound_fields'): Record<string, string> {
  const names = Object.keys(values).sort();
  if (names.length > MAX_FIELDS) throw invalidArgument(`${field} may hold at most ${MAX_FIELDS} fields, got ${names.length}`);
  const fields: Record<string, string> = {};
  for (const name of names) {
    if (!FIELD_NAME.test(name)) throw invalidArgument(`${field}: "${name.slice(0, 80)}" is not a field name (1 to 64 letters, digits, "_", "-" or ".")`);
    const value = values[name];
    if (value === '') throw invalidArgument(`${field}: ${name} has an empty value; leave the field out instead`);
    if (value.length > MAX_FIELD_VALUE) throw invalidArgument(`${field}: ${name} may be at most ${MAX_FIELD_VALUE} characters, got ${value.length}`);
    fields[name] = value;
  }
  return fields;
}

/** An https URL for the image, or null. */
export function parseAssetUrl(value: string, field = 'asset_url'): string | null {
  if (value === '') return null;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'https:' || value.length > MAX_FIELD_VALUE) throw invalidArgument(`${field} must be an https:// URL of at most ${MAX_FIELD_VALUE} characters, got "${value.slice(0, 100)}"`);
  return url.href;
}
