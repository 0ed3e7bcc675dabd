import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { productCertificateV1, type ProductCertificateService } from '@c2pa-mesh/proto';
import {
  checkDomainVerification,
  createProductCertificate,
  startDomainVerification,
  getProductCertificate,
  listProductCertificatesHandler,
  listProofKeys,
  rotateProofKey,
  setProductCertificateStatus,
  updateProductCertificateHandler,
} from './certificate-handlers.js';
import type { ProductCertificateDeps } from './deps.js';

/** The full ProductCertificateService: every RPC is listed here, so a missing one does not compile. */
export function createProductCertificateService(deps: ProductCertificateDeps): ServiceImpl<typeof ProductCertificateService> {
  return {
    createProductCertificate: (req, ctx) => createProductCertificate(deps, req, ctx),
    getProductCertificate: (req, ctx) => getProductCertificate(deps, req, ctx),
    listProductCertificates: (req, ctx) => listProductCertificatesHandler(deps, req, ctx),
    updateProductCertificate: (req, ctx) => updateProductCertificateHandler(deps, req, ctx),
    pauseProductCertificate: async (req, ctx) =>
      create(productCertificateV1.PauseProductCertificateResponseSchema, { certificate: await setProductCertificateStatus(deps, req.imageId, ctx, 'PAUSED') }),
    resumeProductCertificate: async (req, ctx) =>
      create(productCertificateV1.ResumeProductCertificateResponseSchema, { certificate: await setProductCertificateStatus(deps, req.imageId, ctx, 'ACTIVE') }),
    revokeProductCertificate: async (req, ctx) =>
      create(productCertificateV1.RevokeProductCertificateResponseSchema, { certificate: await setProductCertificateStatus(deps, req.imageId, ctx, 'REVOKED') }),
    rotateProofKey: (req) => rotateProofKey(deps, req),
    listProofKeys: () => listProofKeys(deps),
    startDomainVerification: (req, ctx) => startDomainVerification(deps, req, ctx),
    checkDomainVerification: (req, ctx) => checkDomainVerification(deps, req, ctx),
  };
}
