import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createClient, type Client } from '@connectrpc/connect';
import type { Identity, Scope } from '@c2pa-mesh/auth';
import { createdManifest, readMedia } from '@c2pa-mesh/engine/test-support';
import { ADMIN_IDENTITY, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { CertificateAuthorityService, ProductCertificateService, RegistryService, SigningService, VerificationService } from '@c2pa-mesh/proto';
import { startTlsListener, type RunningListener } from '@c2pa-mesh/server';
import { pino } from 'pino';
import { Agent, fetch, type Response } from 'undici';

/** A test mesh's services behind a real TLS listener, and a fetch that trusts its CA. */
export interface MeshOverHttps {
  url: string;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  post(path: string, body: string, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function serveOverHttps(mesh: TestMesh): Promise<MeshOverHttps> {
  const listener: RunningListener = await startTlsListener({
    host: '127.0.0.1',
    port: 0,
    certificatePem: mesh.pki.server.pem,
    privateKeyPem: await readFile(mesh.pki.server.privateKeyPath, 'utf8'),
    clientCaPem: mesh.pki.meshCa.pem,
    routes: mesh.routes,
    interceptors: mesh.interceptors,
    logger: pino({ level: 'silent' }),
    fallback: mesh.gateway,
  });
  const dispatcher = new Agent({ connect: { ca: mesh.pki.meshCa.pem } });
  return {
    url: listener.url,
    get: (path, headers = {}) => fetch(`${listener.url}${path}`, { headers, dispatcher }),
    post: (path, body, headers = { 'content-type': 'application/json' }) => fetch(`${listener.url}${path}`, { method: 'POST', body, headers, dispatcher }),
    async close() {
      await dispatcher.close();
      await listener.close(0);
    },
  };
}

export function projectIdentity(projectId: string, scopes: Scope[] = ['sign', 'verify', 'registry.read', 'registry.write']): Identity {
  return { kind: 'API_KEY', id: `key_${projectId}`, projectId, scopes: new Set(scopes) };
}

export const productCertificates = (mesh: TestMesh, identity: Identity = ADMIN_IDENTITY): Client<typeof ProductCertificateService> =>
  createClient(ProductCertificateService, mesh.transport(identity));

let counter = 0;
export async function createProject(mesh: TestMesh, name: string): Promise<string> {
  const { projectId } = await createClient(RegistryService, mesh.transport(ADMIN_IDENTITY)).createProject({ name: `${name} ${process.pid}-${++counter}-${Date.now()}` });
  return projectId;
}

/** Signs a fixture for the project with its own signing certificate, then verifies it (as a caller would). */
export async function signedAndVerified(mesh: TestMesh, projectId: string, options: { verify?: boolean; signerId?: string } = {}) {
  const identity = projectIdentity(projectId);
  const signed = await createClient(SigningService, mesh.transport(identity)).sign({
    asset: readMedia('no_manifest.jpg'),
    format: 'image/jpeg',
    manifestJson: createdManifest('Modern lamp, product photo'),
    signerId: options.signerId ?? '',
  });
  if (options.verify ?? true) {
    const verified = await createClient(VerificationService, mesh.transport(identity)).verify({ asset: signed.signedAsset, format: 'image/jpeg' });
    if (!verified.valid) throw new Error(`the signed fixture did not verify: ${JSON.stringify(verified.errors)}`);
  }
  return signed;
}

export async function issueProjectSigner(mesh: TestMesh, projectId: string, commonName: string) {
  const { certificate } = await createClient(CertificateAuthorityService, mesh.transport(ADMIN_IDENTITY)).issueCertificate({
    profile: 'C2PA_SIGNING',
    commonName,
    organization: 'Mintall Test Merchant',
    projectId,
    keyAlgorithm: 'ES256',
  });
  if (!certificate) throw new Error('IssueCertificate returned no certificate');
  return certificate;
}

export async function revokeCertificate(mesh: TestMesh, certificateId: string) {
  await createClient(CertificateAuthorityService, mesh.transport(ADMIN_IDENTITY)).revokeCertificate({ certificateId, reason: 1 });
}

/**
 * Checks a compact JWS against a JWKS with node:crypto alone, not the library that signed it:
 * the key by `kid`, RS256 as PKCS#1 v1.5, ES256 as raw r‖s (RFC 7518 §3.4). The payload, or throws.
 */
export function independentlyVerifiedPayload(jwt: string, jwks: { keys: Array<Record<string, unknown>> }): { header: Record<string, unknown>; payload: Record<string, any> } {
  const [encodedHeader, encodedPayload, encodedSignature] = jwt.split('.');
  const header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8')) as Record<string, unknown>;
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`no key ${String(header.kid)} in the JWKS`);
  if (jwk.alg !== header.alg) throw new Error(`the JWKS says ${String(jwk.alg)} for ${String(header.kid)}, the JWT ${String(header.alg)}`);
  const key = createPublicKey({ key: jwk as any, format: 'jwk' });
  const input = Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii');
  const signature = Buffer.from(encodedSignature, 'base64url');
  const ok =
    header.alg === 'ES256'
      ? verifySignature('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, signature)
      : header.alg === 'RS256'
        ? verifySignature('sha256', input, key, signature)
        : false;
  if (!ok) throw new Error(`the ${String(header.alg)} signature does not verify with ${String(header.kid)}`);
  return { header, payload: JSON.parse(Buffer.from(encodedPayload, 'base64url').toString('utf8')) };
}
