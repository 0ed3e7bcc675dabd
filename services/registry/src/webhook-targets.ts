import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AddressPolicy } from '@c2pa-mesh/address-policy';
import { invalidArgument } from '@c2pa-mesh/errors';

/**
 * Where webhooks may be sent. Outbound requests to URLs that users choose are an SSRF risk: by
 * default only `https://` URLs whose host resolves to public unicast addresses are allowed. The
 * operator may allow more with MESH_WEBHOOK_ALLOW_HOSTS (host names, IP addresses or CIDR ranges):
 * those targets may be private or loopback addresses and may use plain `http://`.
 */
export interface WebhookTargetGuard {
  /** Checks a URL a user gives and returns it normalised; throws `invalid_argument`. */
  checkUrl(url: string): Promise<string>;
  /** May a request for `hostname` connect to `address`? */
  addressAllowed(hostname: string, address: string): boolean;
  /** For the HTTP client: resolves, refuses addresses that are not allowed, pins the rest. */
  lookup: LookupFunction;
}

interface AllowList {
  names: Set<string>;
  ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
}

function parseAllowList(entries: readonly string[]): AllowList {
  const allow: AllowList = { names: new Set(), ranges: [] };
  for (const raw of entries.map((e) => e.trim()).filter(Boolean)) {
    if (raw.includes('/')) {
      allow.ranges.push(ipaddr.parseCIDR(raw));
    } else if (ipaddr.isValid(raw.replace(/^\[|\]$/g, ''))) {
      const address = ipaddr.parse(raw.replace(/^\[|\]$/g, ''));
      allow.ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else {
      allow.names.add(raw.toLowerCase());
    }
  }
  return allow;
}

/** Rejects entries that are neither host names, IP addresses nor CIDR ranges (at start-up). */
export function validateWebhookAllowHosts(entries: readonly string[]): void {
  parseAllowList(entries);
}

function bareHost(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

export function createWebhookTargetGuard(allowHosts: readonly string[] = []): WebhookTargetGuard {
  const allow = parseAllowList(allowHosts);

  function inAllowedRange(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
    return allow.ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
  }

  function hostAllowListed(hostname: string): boolean {
    const host = bareHost(hostname);
    if (allow.names.has(host)) return true;
    return ipaddr.isValid(host) && inAllowedRange(ipaddr.process(host));
  }

  // The mesh's one outbound address policy (public unicast only, no cloud metadata endpoints),
  // with the operator's MESH_WEBHOOK_ALLOW_HOSTS as its allowlist.
  const policy = new AddressPolicy(allowHosts.map((entry) => bareHost(entry.trim())).filter(Boolean));
  function addressAllowed(hostname: string, address: string): boolean {
    return policy.check(bareHost(hostname), address).allowed;
  }

  const lookup: LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.find((a) => !addressAllowed(hostname, a.address));
      if (refused) {
        const error = Object.assign(new Error(`webhook host ${hostname} resolves to ${refused.address}, which is not a public address; an operator may allow it with MESH_WEBHOOK_ALLOW_HOSTS`), {
          code: 'EWEBHOOKTARGET',
        });
        return callback(error, '', 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };

  async function checkUrl(raw: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw invalidArgument(`url must be an absolute https:// URL, got "${raw.slice(0, 200)}"`);
    }
    if (raw.length > 2000) throw invalidArgument('url may be at most 2000 characters');
    if (url.username || url.password) throw invalidArgument('url must not carry a user name or password; authenticate deliveries with the webhook signature');
    const allowListed = hostAllowListed(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowListed)) {
      throw invalidArgument(`url must use https:// (got ${url.protocol}//); plain http is allowed only for hosts an operator lists in MESH_WEBHOOK_ALLOW_HOSTS`);
    }
    const host = bareHost(url.hostname);
    let addresses: string[];
    if (ipaddr.isValid(host)) addresses = [host];
    else {
      try {
        addresses = (await dns.promises.lookup(host, { all: true })).map((a) => a.address);
      } catch (cause) {
        throw invalidArgument(`url host ${host} cannot be resolved; check the name`, { cause });
      }
    }
    const refused = addresses.find((a) => !addressAllowed(host, a));
    if (refused) {
      throw invalidArgument(`url host ${host} is ${refused}, which is not a public address; webhooks go only to public addresses unless an operator allows the host with MESH_WEBHOOK_ALLOW_HOSTS`);
    }
    return url.toString();
  }

  return { checkUrl, addressAllowed, lookup };
}
