import type { MeshClients } from '@c2pa-mesh/clients';
import type { MeshConfig } from '@c2pa-mesh/config';
import type { C2paEngine } from '@c2pa-mesh/engine';
import type { Logger } from 'pino';
import type { OcspStapler } from './ca-credentials.js';
import type { IngredientTrust } from './ingredient-trust.js';
import type { CertificateStatusEvents, SignerDirectory } from './signer-directory.js';

export interface SigningServiceDeps {
  /** Typed clients of the other services: the only way to the CA and the registry. */
  clients: MeshClients;
  /** The C2PA engine worker pool (shared by signing and verification in one process). */
  engine: C2paEngine;
  config: MeshConfig;
  logger: Logger;
  /**
   * Certificate status changes, when this process hears every one (the CA runs here): signers
   * and their OCSP staples are then resolved once and kept until a change.
   */
  certificateStatus?: CertificateStatusEvents;
}

/** What the handlers share: the deps, plus state kept for the life of the service. */
export interface SigningContext extends SigningServiceDeps {
  signers: SignerDirectory;
  staples: OcspStapler;
  ingredientTrust: IngredientTrust;
}
