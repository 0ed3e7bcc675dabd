import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { AddressPolicy } from '@c2pa-mesh/address-policy';

/** What the mesh may fetch from an identity provider: the discovery document, its keys, tokens. */
export interface ProviderFetchPolicy {
  /** Why `url` may not be fetched, or undefined when it may (before any connection is made). */
  refusal(url: URL): string | undefined;
  /** A fetch for openid-client whose every connection goes to an address the policy allows. */
  fetch: (url: string, options: RequestInit) => Promise<Response>;
  close(): Promise<void>;
}

const bareHost = (hostname: string) => hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
const FETCH_TIMEOUT_MS = 10_000;

/**
 * The mesh's one outbound address policy (public unicast addresses only, no cloud metadata
 * endpoints) applied to identity providers, with MESH_OIDC_ALLOW_HOSTS as its allowlist: an
 * operator's own provider on an internal address is named there, and only such a host may be
 * reached over plain http. Host names are checked at connect time against every address they
 * resolve to, so a name that resolves elsewhere later is caught too.
 */
export function createProviderFetchPolicy(allowHosts: readonly string[]): ProviderFetchPolicy {
  const entries = allowHosts.map((entry) => bareHost(entry.trim())).filter(Boolean);
  const policy = new AddressPolicy(entries);
  const ranges = entries.filter((e) => ipaddr.isValidCIDR(e) || ipaddr.isValid(e)).map((e) => (ipaddr.isValidCIDR(e) ? ipaddr.parseCIDR(e) : ([ipaddr.process(e), ipaddr.process(e).kind() === 'ipv4' ? 32 : 128] as const)));

  function allowListed(host: string): boolean {
    if (policy.hostAllowed(host)) return true;
    if (!ipaddr.isValid(host)) return false;
    const ip = ipaddr.process(host);
    return ranges.some(([base, bits]) => base.kind() === ip.kind() && ip.match(base, bits));
  }

  function refusal(url: URL): string | undefined {
    const host = bareHost(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowListed(host))) {
      return `${url.origin} is not https://; plain http is used only for hosts an operator lists in MESH_OIDC_ALLOW_HOSTS`;
    }
    if (url.username || url.password) return 'URLs with credentials (user:password@) are not fetched';
    // A literal address is never looked up, so it is judged here.
    if (ipaddr.isValid(host)) {
      const verdict = policy.check(host, host);
      if (!verdict.allowed) return `${host} is ${verdict.reason}; identity providers are reached only at public addresses unless an operator allows the host with MESH_OIDC_ALLOW_HOSTS`;
    }
    return undefined;
  }

  const lookup: LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.map((a) => ({ a, verdict: policy.check(bareHost(hostname), a.address) })).find(({ verdict }) => !verdict.allowed);
      if (refused) {
        const error = Object.assign(
          new Error(`identity provider host ${hostname} resolves to ${refused.a.address}, ${refused.verdict.reason}; an operator may allow it with MESH_OIDC_ALLOW_HOSTS`),
          { code: 'EPROVIDERTARGET' },
        );
        return callback(error, '', 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
  const agent = new Agent({ connect: { lookup, timeout: FETCH_TIMEOUT_MS }, headersTimeout: FETCH_TIMEOUT_MS, bodyTimeout: FETCH_TIMEOUT_MS });

  return {
    refusal,
    async fetch(raw, options) {
      const url = new URL(raw);
      const refused = refusal(url);
      if (refused) throw new TypeError(refused);
      // Redirects are not followed: each hop would need the same check (openid-client asks for none).
      const response = await undiciFetch(url, { ...(options as object), redirect: 'manual', dispatcher: agent } as never);
      return response as unknown as Response;
    },
    close: () => agent.close(),
  };
}
