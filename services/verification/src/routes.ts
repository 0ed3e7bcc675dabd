import type { ServiceImpl } from '@connectrpc/connect';
import type { MeshClients } from '@c2pa-mesh/clients';
import type { MeshConfig } from '@c2pa-mesh/config';
import { callDependency } from '@c2pa-mesh/errors';
import type { C2paEngine } from '@c2pa-mesh/engine';
import type { VerificationService } from '@c2pa-mesh/proto';
import type { Logger } from 'pino';
import { createCertificateStatusLookup, type CertificateStatusLookup } from './certificate-status.js';
import { listVerifications } from './list-verifications.js';
import { verificationSettingsFromEnv, type VerificationSettings } from './settings.js';
import { createTrustStore, type TrustStore } from './trust-store.js';
import { createUrlFetcher, type ResolveHost, type UrlFetcher } from './url-fetch.js';
import { getManifestStore, matchContent, matchSoftBinding } from './soft-binding-matches.js';
import { verify } from './verify.js';
import { verifyBatch } from './verify-batch.js';
import { verifyByHash } from './verify-by-hash.js';
import { verifyStream } from './verify-stream.js';
import { verifyUrl } from './verify-url.js';

/** What the mesh hands the Verification service. */
export interface VerificationServiceOptions {
  clients: MeshClients;
  /** The C2PA engine worker pool (shared by signing and verification in one process). */
  engine: C2paEngine;
  config: MeshConfig;
  logger: Logger;
  /** The mesh's C2PA root certificate (PEM): always a trust anchor. Absent: asked of the CA. */
  c2paRootPem?: string;
  /** Operator settings; absent: read from the environment (verificationSettingsFromEnv). */
  settings?: VerificationSettings;
  /** Host name resolution for VerifyUrl; the system resolver when absent. */
  resolveHost?: ResolveHost;
  /** How long a look at the trust files stays good, in milliseconds (default 1000). */
  trustRecheckMs?: number;
}

/** What the handlers use. */
export interface VerificationServiceDeps {
  clients: MeshClients;
  engine: C2paEngine;
  config: MeshConfig;
  logger: Logger;
  settings: VerificationSettings;
  trust: TrustStore;
  urlFetcher: UrlFetcher;
  certificateStatus: CertificateStatusLookup;
}

/**
 * The full VerificationService: every RPC is listed here, so a missing one does not compile.
 * Throws a ConfigError when a trust file named in the settings cannot be read.
 */
export function createVerificationService(options: VerificationServiceOptions): ServiceImpl<typeof VerificationService> {
  const settings = options.settings ?? verificationSettingsFromEnv(process.env);
  const deps: VerificationServiceDeps = {
    clients: options.clients,
    engine: options.engine,
    config: options.config,
    logger: options.logger,
    settings,
    trust: createTrustStore({
      rootPem:
        options.c2paRootPem ??
        (async () => {
          const chain = await callDependency('the CA could not give its C2PA root certificate', () =>
            options.clients.certificateAuthority.getCertificateChain({ profile: 'C2PA_SIGNING' }),
          );
          return chain.rootPem;
        }),
      anchorsFile: settings.trustAnchorsFile ? { path: settings.trustAnchorsFile, variable: 'MESH_TRUST_ANCHORS_FILE' } : undefined,
      allowedFile: settings.allowedCertificatesFile ? { path: settings.allowedCertificatesFile, variable: 'MESH_ALLOWED_CERTIFICATES_FILE' } : undefined,
      logger: options.logger,
      recheckMs: options.trustRecheckMs,
    }),
    urlFetcher: createUrlFetcher(settings.url, options.resolveHost),
    certificateStatus: createCertificateStatusLookup(options.clients),
  };
  return {
    verify: (req, ctx) => verify(deps, req, ctx),
    verifyStream: (requests, ctx) => verifyStream(deps, requests, ctx),
    verifyByHash: (req, ctx) => verifyByHash(deps, req, ctx),
    verifyUrl: (req, ctx) => verifyUrl(deps, req, ctx),
    verifyBatch: (req, ctx) => verifyBatch(deps, req, ctx),
    listVerifications: (req, ctx) => listVerifications(deps, req, ctx),
    matchSoftBinding: (req, ctx) => matchSoftBinding(deps, req, ctx),
    matchContent: (req, ctx) => matchContent(deps, req, ctx),
    getManifestStore: (req, ctx) => getManifestStore(deps, req, ctx),
  };
}
