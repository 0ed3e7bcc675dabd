import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { invalidArgument } from '@c2pa-mesh/errors';
import { certificateAuthorityV1 } from '@c2pa-mesh/proto';
import { toCertificateMessage } from './certificate-records.js';
import { visibleCertificate } from './certificate-queries.js';
import type { CertificateAuthorityDeps } from './deps.js';

const MESH_PROFILES = ['MESH_CLIENT', 'MESH_SERVER', 'MESH_CA'];
const C2PA_PROFILES = ['C2PA_SIGNING', 'ROOT_CA', 'INTERMEDIATE_CA', 'OCSP_RESPONDER', 'TSA'];

/**
 * The chain above a profile or a certificate, issuer first up to and including the root (with
 * `certificate_id`, that certificate first), and the root alone.
 */
export async function getCertificateChain(deps: CertificateAuthorityDeps, req: certificateAuthorityV1.GetCertificateChainRequest, ctx: HandlerContext) {
  let profile = req.profile || 'C2PA_SIGNING';
  let certificate: certificateAuthorityV1.Certificate | undefined;
  if (req.certificateId) {
    const row = await visibleCertificate(deps, ctx, req.certificateId);
    certificate = toCertificateMessage(row);
    profile = row.profile;
  }
  const join = (pems: string[]) => pems.map((p) => `${p.trim()}\n`).join('');
  const leaf = certificate && !['ROOT_CA', 'MESH_CA'].includes(profile) ? [certificate.certificatePem] : [];
  if (MESH_PROFILES.includes(profile)) {
    return create(certificateAuthorityV1.GetCertificateChainResponseSchema, { chainPem: join([...leaf, deps.meshCa.pem]), rootPem: deps.meshCa.pem, certificate });
  }
  if (C2PA_PROFILES.includes(profile)) {
    const intermediates = profile === 'ROOT_CA' || (profile === 'INTERMEDIATE_CA' && leaf.length > 0) ? [] : [deps.c2paIntermediate.pem];
    return create(certificateAuthorityV1.GetCertificateChainResponseSchema, {
      chainPem: join([...leaf, ...intermediates, deps.c2paRoot.pem]),
      rootPem: deps.c2paRoot.pem,
      certificate,
    });
  }
  throw invalidArgument(`unknown profile "${req.profile}"; use C2PA_SIGNING, MESH_CLIENT or MESH_SERVER`);
}
