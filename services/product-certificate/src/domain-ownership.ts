import { verifiedProductCertificateDomains, type Database } from '@c2pa-mesh/storage';

/** Which domains a project has proved it holds, and whether the public verify insists on it. */
export interface DomainOwnership {
  /** When true, verify answers 412 for a domain the certificate's project has not verified. */
  readonly enforced: boolean;
  isVerified(projectId: string, domain: string): Promise<boolean>;
  allVerified(projectId: string, domains: readonly string[]): Promise<boolean>;
}

export function createDomainOwnership(db: Database, options: { enforced: boolean }): DomainOwnership {
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
  };
}
