import { create } from '@bufbuild/protobuf';
import { invalidArgument } from '@c2pa-mesh/errors';
import { certificateAuthorityV1 } from '@c2pa-mesh/proto';
import type { CertificateAuthority } from './certificate-authority.js';
import type { CrlIssuer } from './crl-service.js';

/** The issuing CA of a profile, whose CRL lists that profile's revoked certificates. */
export function crlIssuerOf(ca: CertificateAuthority, profile: string): CrlIssuer {
  switch (profile.trim().toUpperCase()) {
    case '':
    case 'C2PA_SIGNING':
      return ca.crlIssuers.c2pa;
    case 'MESH_CLIENT':
    case 'MESH_SERVER':
      return ca.crlIssuers.mesh;
    default:
      throw invalidArgument(`profile "${profile}" has no CRL here; use C2PA_SIGNING, MESH_CLIENT or MESH_SERVER`);
  }
}

export async function getCrl(ca: CertificateAuthority, req: certificateAuthorityV1.GetCrlRequest) {
  const crl = await ca.crl.crlFor(crlIssuerOf(ca, req.profile));
  return create(certificateAuthorityV1.GetCrlResponseSchema, {
    crl: crl.der,
    thisUpdate: crl.thisUpdate.toISOString(),
    nextUpdate: crl.nextUpdate.toISOString(),
  });
}
