import { createClient, type Client } from '@connectrpc/connect';
import type { Identity } from '@c2pa-mesh/auth';
import { createInProcessTransport } from '@c2pa-mesh/clients';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { CertificateAuthorityService, RegistryService, SigningService, VerificationService } from '@c2pa-mesh/proto';
import { pino } from 'pino';
import { createVerificationService } from '../routes.js';
import { DEFAULT_VERIFICATION_SETTINGS, type VerificationSettings } from '../settings.js';
import type { ResolveHost } from '../url-fetch.js';
import { createdManifest } from './media.js';

export interface VerificationTestMesh {
  mesh: TestMesh;
  /** The mesh's Verification service, as a caller with `identity` (default: admin) sees it. */
  verification(identity?: Identity): Client<typeof VerificationService>;
  signing: Client<typeof SigningService>;
  registry: Client<typeof RegistryService>;
  ca: Client<typeof CertificateAuthorityService>;
  /** A project made for the test: Sign needs one for the admin identity. */
  projectId: string;
  /** A Verification service with other settings, in front of the same mesh (CA, registry). */
  verificationWith(options: { settings?: Partial<VerificationSettings>; url?: Partial<VerificationSettings['url']>; resolveHost?: ResolveHost; identity?: Identity }): Client<typeof VerificationService>;
  /** Signs through the mesh's Signing service (default signer, or `signerId`). */
  sign(asset: Uint8Array, format: string, options?: { title?: string; signerId?: string }): Promise<{ signedAsset: Uint8Array; assetId: string; assetSha256: string; certificateId: string }>;
  close(): Promise<void>;
}

/** The whole mesh in memory (createTestMesh), with the clients a verification test needs. */
export async function createVerificationTestMesh(): Promise<VerificationTestMesh> {
  const mesh = await createTestMesh();
  const admin = mesh.transport(ADMIN_IDENTITY);
  const registry = createClient(RegistryService, admin);
  const signing = createClient(SigningService, admin);
  let projectId: string;
  try {
    ({ projectId } = await registry.createProject({ name: `verification-test-${Date.now()}` }));
  } catch (error) {
    // The caller gets no handle to close: close here, or the data dir and database stay behind.
    await mesh.close();
    throw error;
  }
  return {
    mesh,
    verification: (identity = ADMIN_IDENTITY) => createClient(VerificationService, mesh.transport(identity)),
    signing,
    registry,
    ca: createClient(CertificateAuthorityService, admin),
    projectId,
    verificationWith(options) {
      const settings: VerificationSettings = {
        ...DEFAULT_VERIFICATION_SETTINGS,
        ...options.settings,
        url: { ...DEFAULT_VERIFICATION_SETTINGS.url, ...options.settings?.url, ...options.url },
      };
      const impl = createVerificationService({
        clients: mesh.clientsFor('verification'),
        engine: mesh.engine!,
        config: mesh.config,
        logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
        c2paRootPem: mesh.pki.c2paRoot.pem,
        settings,
        resolveHost: options.resolveHost,
        trustRecheckMs: 0,
      });
      const transport = createInProcessTransport({
        routes: (router) => router.service(VerificationService, impl),
        interceptors: mesh.interceptors,
        caller: options.identity ?? ADMIN_IDENTITY,
        clientIp: '127.0.0.1',
      });
      return createClient(VerificationService, transport);
    },
    async sign(asset, format, options = {}) {
      const signed = await signing.sign({
        asset,
        format,
        manifestJson: createdManifest(options.title ?? 'signed for a verification test'),
        signerId: options.signerId ?? '',
        projectId,
      });
      return { signedAsset: signed.signedAsset, assetId: signed.assetId, assetSha256: signed.assetSha256, certificateId: signed.certificateId };
    },
    close: () => mesh.close(),
  };
}
