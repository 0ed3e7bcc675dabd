import { create } from '@bufbuild/protobuf';
import { productCertificateV1 } from '@c2pa-mesh/proto';
import type { ProductCertificateKeyRow } from '@c2pa-mesh/storage';
import { fullCertificate, type CertificateFacts } from './certificate-document.js';

function utc(date: Date | null): string {
  return date ? date.toISOString() : '';
}

export function toProductCertificate(facts: CertificateFacts): productCertificateV1.ProductCertificate {
  const { certificate } = facts;
  return create(productCertificateV1.ProductCertificateSchema, {
    imageId: certificate.id,
    projectId: certificate.project_id,
    assetId: certificate.asset_id,
    authorizedDomains: [...certificate.authorized_domains],
    boundFields: { ...certificate.bound_fields },
    status: certificate.status,
    domainVerified: facts.domainVerified,
    kid: certificate.kid,
    issuedAt: utc(certificate.issued_at),
    updatedAt: utc(certificate.updated_at),
    certificateJson: JSON.stringify(fullCertificate(facts)),
    assetUrl: certificate.asset_url ?? '',
  });
}

export function toProofKey(row: ProductCertificateKeyRow, published: boolean): productCertificateV1.ProofKey {
  return create(productCertificateV1.ProofKeySchema, {
    kid: row.kid,
    algorithm: row.algorithm,
    status: row.status,
    publicJwk: JSON.stringify(row.public_jwk),
    createdAt: utc(row.created_at),
    retiredAt: utc(row.retired_at),
    published,
  });
}
