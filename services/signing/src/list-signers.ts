import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { notFound } from '@c2pa-mesh/errors';
import { signingV1 } from '@c2pa-mesh/proto';
import { callerIdentity } from '@c2pa-mesh/server';
import type { SigningServiceDeps } from './deps.js';

const ALGORITHMS: Record<string, string> = { ES256: 'es256', ES384: 'es384', PS256: 'ps256', ED25519: 'ed25519' };

/**
 * The signing identities the caller may use: C2PA signing certificates whose key the CA keeps,
 * of the caller's project plus the mesh-wide default signer. Chains are leaf first, then the
 * intermediate(s); the root is the relying party's trust anchor and is not included.
 */
export async function listSigners(deps: SigningServiceDeps, req: signingV1.ListSignersRequest, ctx: HandlerContext) {
  const identity = callerIdentity(ctx);
  if (identity.projectId !== undefined && req.projectId && req.projectId !== identity.projectId) {
    throw notFound(`no project ${req.projectId}`);
  }
  const projectId = identity.projectId ?? req.projectId;
  const signers: signingV1.Signer[] = [];
  let pageToken = '';
  do {
    const page = await deps.clients.certificateAuthority.listCertificates({
      profile: 'C2PA_SIGNING',
      keyHeldByCa: true,
      projectId,
      includeMeshWide: true,
      status: req.includeInactive ? '' : 'ACTIVE',
      pageSize: 500,
      pageToken,
    });
    for (const certificate of page.certificates) {
      signers.push(
        create(signingV1.SignerSchema, {
          id: certificate.certificateId,
          certificateId: certificate.certificateId,
          algorithm: ALGORITHMS[certificate.keyAlgorithm] ?? certificate.keyAlgorithm.toLowerCase(),
          certificateChainPem: `${certificate.certificatePem.trim()}\n${certificate.chainPem.trim()}\n`,
          status: certificate.status,
          commonName: certificate.commonName,
          projectId: certificate.projectId,
          isDefault: certificate.isDefaultSigner,
          notBefore: certificate.notBefore,
          notAfter: certificate.notAfter,
        }),
      );
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
  return create(signingV1.ListSignersResponseSchema, { signers });
}
