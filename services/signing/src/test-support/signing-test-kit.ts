import { createClient, ConnectError, type Client } from '@connectrpc/connect';
import type { Identity, Scope } from '@c2pa-mesh/auth';
import type { TestMesh } from '@c2pa-mesh/mesh/testing';
import { ADMIN_IDENTITY } from '@c2pa-mesh/mesh/testing';
import { TRAINED_ALGORITHMIC_MEDIA } from '@c2pa-mesh/engine/test-support';
import { CertificateAuthorityService, RegistryService, SigningService } from '@c2pa-mesh/proto';
import { expect } from 'vitest';

/** Media fixtures, manifests, identities and clients for the signing service's tests. */

export {
  mediaDir as MEDIA_DIR,
  readMedia,
  flipMediaByte,
  hashMismatchCode,
  TRAINED_ALGORITHMIC_MEDIA,
  UNSIGNED_SAMPLES as TEN_FORMATS,
  MORE_SAMPLES as MORE_FORMATS,
} from '@c2pa-mesh/engine/test-support';


/** A manifest as an AI image generator sends it: created, with its digital source type. */
export function generatorManifest(title: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    title,
    assertions: [
      { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA }] } },
      { label: 'stds.schema-org.CreativeWork', data: { '@context': 'https://schema.org', '@type': 'CreativeWork', author: [{ '@type': 'Person', name: 'Test Author' }] } },
    ],
    ...extra,
  });
}

export type SigningClient = Client<typeof SigningService>;

export const signingClient = (mesh: TestMesh, identity: Identity = ADMIN_IDENTITY): SigningClient => createClient(SigningService, mesh.transport(identity));
export const caClient = (mesh: TestMesh) => createClient(CertificateAuthorityService, mesh.transport(ADMIN_IDENTITY));
export const registryClient = (mesh: TestMesh) => createClient(RegistryService, mesh.transport(ADMIN_IDENTITY));

/** An API-key identity acting for `projectId`, as the auth interceptor would establish it. */
export function projectKey(projectId: string, options: { scopes?: Scope[]; maxAssetBytes?: number; id?: string } = {}): Identity {
  return {
    kind: 'API_KEY',
    id: options.id ?? `key_${projectId}`,
    projectId,
    scopes: new Set<Scope>(options.scopes ?? ['sign', 'registry.read']),
    ...(options.maxAssetBytes === undefined ? {} : { limits: { maxAssetBytes: options.maxAssetBytes, requestsPerMinute: 100_000 } }),
  };
}

let projectCounter = 0;
export async function createProject(mesh: TestMesh, name = 'Newsroom'): Promise<string> {
  const { projectId } = await registryClient(mesh).createProject({ name: `${name} ${process.pid}-${++projectCounter}-${Date.now()}` });
  return projectId;
}

/** A C2PA signing certificate for a project, key kept by the CA. */
export async function issueProjectSigner(mesh: TestMesh, projectId: string, commonName: string, options: { requireActivation?: boolean; keyAlgorithm?: string } = {}) {
  const { certificate } = await caClient(mesh).issueCertificate({
    profile: 'C2PA_SIGNING',
    commonName,
    organization: 'Signing Test Newsroom',
    projectId,
    keyAlgorithm: options.keyAlgorithm ?? 'ES256',
    requireActivation: options.requireActivation ?? false,
  });
  if (!certificate) throw new Error('IssueCertificate returned no certificate');
  return certificate;
}

/** The ConnectError a call fails with (the test fails if it succeeds). */
export async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => ConnectError.from(error),
  );
  expect(outcome, 'the call was expected to fail').toBeInstanceOf(ConnectError);
  return outcome as ConnectError;
}

export const codes = (entries: Array<{ code: string }> | undefined) => entries?.map((e) => e.code) ?? [];
