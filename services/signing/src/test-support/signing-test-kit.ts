import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, ConnectError, type Client } from '@connectrpc/connect';
import type { Identity, Scope } from '@c2pa-mesh/auth';
import type { TestMesh } from '@c2pa-mesh/mesh';
import { ADMIN_IDENTITY } from '@c2pa-mesh/mesh';
import { CertificateAuthorityService, RegistryService, SigningService } from '@c2pa-mesh/proto';
import { expect } from 'vitest';

/** Media fixtures, manifests, identities and clients for the signing service's tests. */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const MEDIA_DIR = path.resolve(repoRoot, '../shared/fixtures/media');

export const readMedia = (file: string): Uint8Array => new Uint8Array(readFileSync(path.join(MEDIA_DIR, file)));

/** One unsigned sample of each of the ten formats users sign most. */
export const TEN_FORMATS = [
  { file: 'no_manifest.jpg', format: 'image/jpeg' },
  { file: 'sample1.png', format: 'image/png' },
  { file: 'sample1.webp', format: 'image/webp' },
  { file: 'test.tiff', format: 'image/tiff' },
  { file: 'sample1.avif', format: 'image/avif' },
  { file: 'video1_no_manifest.mp4', format: 'video/mp4' },
  { file: 'sample1.mp3', format: 'audio/mpeg' },
  { file: 'sample1.wav', format: 'audio/wav' },
  { file: 'sample1.flac', format: 'audio/flac' },
  { file: 'sample1.m4a', format: 'audio/mp4' },
] as const;

/**
 * The hard-binding mismatch c2pa-rs 0.91 reports when media data changes: ISO BMFF files (MP4,
 * M4A, AVIF) are bound by a BMFF hash and report `assertion.bmffHash.mismatch`; every other
 * container by a data hash, `assertion.dataHash.mismatch`.
 */
export const hashMismatchCode = (format: string) =>
  ['video/mp4', 'audio/mp4', 'image/avif'].includes(format) ? 'assertion.bmffHash.mismatch' : 'assertion.dataHash.mismatch';

export const TRAINED_ALGORITHMIC_MEDIA = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

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

/**
 * Flips one bit of media data in a signed asset: inside a window of the original that survives
 * unchanged in the signed file (content, not manifest), away from 0xFF bytes so that no JPEG
 * marker appears or disappears.
 */
export function flipMediaByte(original: Uint8Array, signed: Uint8Array): Uint8Array {
  const haystack = Buffer.from(signed.buffer, signed.byteOffset, signed.byteLength);
  for (const fraction of [0.6, 0.7, 0.5, 0.8, 0.4]) {
    const start = Math.floor(original.length * fraction);
    const at = haystack.indexOf(original.subarray(start, start + 64));
    if (at < 0) continue;
    for (let i = at + 16; i < at + 48; i++) {
      if (signed[i - 1] !== 0xff && signed[i] < 0xfe && signed[i + 1] !== 0xff) {
        const altered = signed.slice();
        altered[i] ^= 0x01;
        return altered;
      }
    }
  }
  throw new Error('no unchanged media window found in the signed asset');
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
