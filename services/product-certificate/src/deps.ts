import type { Database } from '@c2pa-mesh/storage';
import type { Logger } from 'pino';
import type { ProofKeyRing } from './proof-keys.js';
import type { DomainOwnership } from './domain-ownership.js';

export interface ProductCertificateDeps {
  db: Database;
  keys: ProofKeyRing;
  domains: DomainOwnership;
  logger: Logger;
}
