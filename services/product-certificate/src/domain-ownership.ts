import { randomBytes } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import { failedPrecondition, isMeshError } from '@c2pa-mesh/errors';
import {
  markProductCertificateDomainVerified,
  upsertProductCertificateDomain,
  verifiedProductCertificateDomains,
  type Database,
  type ProductCertificateDomainRow,
} from '@c2pa-mesh/storage';

/** The shape of the fetcher this module calls; the mesh passes in VerificationService's URL fetcher. */
export interface WellKnownFetcher {
  fetchAsset(options: { url: string; maxBytes: number; signal?: AbortSignal }): Promise<{ bytes: Uint8Array }>;
}

/** Where the challenge is published, and what it holds. */
export const DNS_CHALLENGE_PREFIX = '_c2pa-mesh-challenge';
export const DNS_CHALLENGE_VALUE_PREFIX = 'c2pa-mesh-domain-verification=';
export const WELL_KNOWN_PATH = '/.well-known/c2pa-mesh-domain-verification.txt';
/** The well-known file holds a token and little else: anything larger is not ours. */
const WELL_KNOWN_MAX_BYTES = 4096;

export interface DomainChallenge {
  domain: string;
  dnsRecordName: string;
  dnsRecordValue: string;
  wellKnownUrl: string;
  wellKnownContent: string;
  verified: boolean;
}

export interface DomainCheck {
  domain: string;
  verified: boolean;
  method?: string;
  verifiedAt?: Date;
  problems: string[];
}

/** Which domains a project has proved it holds, and whether the public verify insists on it. */
export interface DomainOwnership {
  /** When true, verify answers 412 for a domain the certificate's project has not verified. */
  readonly enforced: boolean;
  isVerified(projectId: string, domain: string): Promise<boolean>;
  allVerified(projectId: string, domains: readonly string[]): Promise<boolean>;
  challenge(projectId: string, domain: string): Promise<DomainChallenge>;
  check(projectId: string, domain: string): Promise<DomainCheck>;
}

export interface DomainOwnershipOptions {
  enforced: boolean;
  /** Fetches the well-known file under the mesh's one outbound-fetch (SSRF) policy. */
  /** The mesh's one outbound-fetch policy (VerifyUrl's fetcher: public addresses only, pinned). */
  fetcher: WellKnownFetcher;
  /** DNS servers for the TXT lookup (`host:port`); empty: the system's. */
  dnsServers?: readonly string[];
}

function challengeOf(row: ProductCertificateDomainRow): DomainChallenge {
  return {
    domain: row.domain,
    dnsRecordName: `${DNS_CHALLENGE_PREFIX}.${row.domain}`,
    dnsRecordValue: `${DNS_CHALLENGE_VALUE_PREFIX}${row.token}`,
    wellKnownUrl: `https://${row.domain}${WELL_KNOWN_PATH}`,
    wellKnownContent: `${row.token}\n`,
    verified: row.verified_at !== null,
  };
}

/** A resolver for the given servers, or the system's; also what the well-known fetch resolves with. */
export function createDnsResolver(servers: readonly string[] = []): { resolveTxt(name: string): Promise<string[][]>; resolveHost(name: string): Promise<LookupAddress[]> } {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  if (servers.length > 0) resolver.setServers([...servers]);
  return {
    resolveTxt: (name) => resolver.resolveTxt(name),
    async resolveHost(name) {
      const [v4, v6] = await Promise.all([resolver.resolve4(name).catch(() => [] as string[]), resolver.resolve6(name).catch(() => [] as string[])]);
      return [...v4.map((address) => ({ address, family: 4 })), ...v6.map((address) => ({ address, family: 6 }))];
    },
  };
}

export function createDomainOwnership(db: Database, options: DomainOwnershipOptions): DomainOwnership {
  const dns = createDnsResolver(options.dnsServers);

  async function viaDns(challenge: DomainChallenge): Promise<string | undefined> {
    let records: string[][];
    try {
      records = await dns.resolveTxt(challenge.dnsRecordName);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'error';
      return `DNS: no TXT record ${challenge.dnsRecordName} (${code})`;
    }
    // A TXT record may be split into strings of 255 bytes; they form one value.
    if (records.some((parts) => parts.join('').trim() === challenge.dnsRecordValue)) return undefined;
    return `DNS: ${challenge.dnsRecordName} has TXT records, but none is "${challenge.dnsRecordValue}"`;
  }

  async function viaWellKnown(challenge: DomainChallenge): Promise<string | undefined> {
    try {
      const { bytes } = await options.fetcher.fetchAsset({ url: challenge.wellKnownUrl, maxBytes: WELL_KNOWN_MAX_BYTES });
      const lines = Buffer.from(bytes).toString('utf8').split(/\r?\n/).map((line) => line.trim());
      if (lines.includes(challenge.wellKnownContent.trim())) return undefined;
      return `HTTPS: ${challenge.wellKnownUrl} does not hold the token`;
    } catch (error) {
      // The fetch policy's refusals are written for people (SSRF refusals included).
      return `HTTPS: ${isMeshError(error) ? error.message : 'the file could not be fetched'}`;
    }
  }

  return {
    enforced: options.enforced,
    async isVerified(projectId, domain) {
      return (await verifiedProductCertificateDomains(db, projectId, [domain])).has(domain);
    },
    async allVerified(projectId, domains) {
      if (domains.length === 0) return false;
      const verified = await verifiedProductCertificateDomains(db, projectId, domains);
      return domains.every((d) => verified.has(d));
    },
    async challenge(projectId, domain) {
      return challengeOf(await upsertProductCertificateDomain(db, projectId, domain, randomBytes(24).toString('base64url')));
    },
    async check(projectId, domain) {
      const row = (await db.selectFrom('product_certificate_domains').selectAll().where('project_id', '=', projectId).where('domain', '=', domain).executeTakeFirst()) as
        | ProductCertificateDomainRow
        | undefined;
      if (!row) throw failedPrecondition(`no verification was started for ${domain}: call StartDomainVerification and publish its challenge first`);
      if (row.verified_at) return { domain, verified: true, method: row.method ?? undefined, verifiedAt: row.verified_at, problems: [] };
      const challenge = challengeOf(row);
      const problems: string[] = [];
      for (const [method, attempt] of [['DNS_TXT', viaDns], ['HTTPS_WELL_KNOWN', viaWellKnown]] as const) {
        const problem = await attempt(challenge);
        if (problem === undefined) {
          const marked = await markProductCertificateDomainVerified(db, projectId, domain, method, new Date());
          return { domain, verified: true, method, verifiedAt: marked?.verified_at ?? new Date(), problems: [] };
        }
        problems.push(problem);
      }
      return { domain, verified: false, problems };
    },
  };
}
