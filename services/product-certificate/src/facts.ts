import { notFound } from '@c2pa-mesh/errors';
import { findAssetById, findCertificateById, type ProductCertificateRow } from '@c2pa-mesh/storage';
import type { CertificateFacts } from './certificate-document.js';
import type { ProductCertificateDeps } from './deps.js';

/** A certificate with the asset, signing certificate and domain checks its document states. */
export async function loadFacts(deps: Pick<ProductCertificateDeps, 'db' | 'domains'>, certificate: ProductCertificateRow): Promise<CertificateFacts> {
  const asset = await findAssetById(deps.db, certificate.asset_id);
  // The foreign key keeps the asset row; a missing one means the database was edited by hand.
  if (!asset) throw notFound(`the asset of product certificate ${certificate.id} is gone`);
  const signingCertificate = asset.certificate_id ? await findCertificateById(deps.db, asset.certificate_id) : undefined;
  const domainVerified = await deps.domains.allVerified(certificate.project_id, certificate.authorized_domains);
  return { certificate, asset, signingCertificate, domainVerified };
}
