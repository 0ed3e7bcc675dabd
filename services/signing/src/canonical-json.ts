import { invalidArgument } from '@c2pa-mesh/errors';

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS), written by hand: no JCS package is installed here,
 * and for JSON values built in code the scheme is exactly ECMAScript's own serialisation
 * (JSON.stringify for strings, numbers and literals, RFC 8785 §3.2.2) with object members sorted
 * by their UTF-16 code units (§3.2.3), which is what Array.prototype.sort does by default.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalidArgument('canonical JSON has no representation for NaN or Infinity');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const members = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    members.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${members.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw invalidArgument(`canonical JSON has no representation for a ${typeof value}`);
}
