import type { Identity } from '@c2pa-mesh/auth';
import type { SigningContext } from './deps.js';
import { resolveSigningProject, type SigningProject } from './signing-project.js';
import type { SigningIdentity } from './signer-directory.js';

export interface SigningCredentials {
  project: SigningProject;
  signer: SigningIdentity;
  /** DER OCSPResponse for the signing certificate, stapled into the signature. */
  ocspResponse: Uint8Array;
}

/**
 * Who signs for whom: the project (checked against the caller), the signer (named or the
 * default, checked to be able to sign for the project now) and its OCSP staple. The project and
 * a named signer are looked up at the same time.
 */
export async function resolveSigningCredentials(deps: SigningContext, identity: Identity, request: { projectId: string; signerId: string }): Promise<SigningCredentials> {
  const projectLookup = resolveSigningProject(deps.clients, identity, request.projectId);
  const signer = await deps.signers.resolve({ signerId: request.signerId, project: projectLookup });
  const [project, ocspResponse] = await Promise.all([projectLookup, deps.staples.stapleFor(signer)]);
  return { project, signer, ocspResponse };
}
