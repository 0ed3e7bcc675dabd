import { domainToASCII } from 'node:url';

/** Longest host name DNS allows (RFC 1035 §2.3.4, in its dotted text form). */
const MAX_HOST_LENGTH = 253;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * A domain as certificates store and compare it: lower case, no trailing dot, internationalised
 * names in punycode (`bücher.example` → `xn--bcher-kva.example`). Undefined for anything that is
 * not a plain host name: a URL, a port, an IP address literal, an empty label.
 */
export function normalizeDomain(value: string): string | undefined {
  let host = value.trim();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host === '' || /[/:@?#\s\[\]\\]/.test(host)) return undefined;
  // WHATWG's domain-to-ASCII (UTS #46): case-folds and maps Unicode the way browsers do.
  const ascii = domainToASCII(host);
  if (ascii === '' || ascii.length > MAX_HOST_LENGTH) return undefined;
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) return undefined;
  // A dotted quad is an address, not a domain someone can prove they hold.
  if (labels.every((label) => /^\d+$/.test(label))) return undefined;
  return ascii;
}
