import type { ServiceImpl } from '@connectrpc/connect';
import { unimplemented } from '@c2pa-mesh/errors';
import type { CertificateAuthorityService } from '@c2pa-mesh/proto';
import { getCertificate, listCertificatesHandler } from './certificate-queries.js';
import { getCertificateChain } from './certificate-chain.js';
import type { CertificateAuthorityDeps } from './deps.js';

/** The full CertificateAuthorityService: every RPC is listed here, so a missing one does not compile. */
export function createCertificateAuthorityService(deps: CertificateAuthorityDeps): ServiceImpl<typeof CertificateAuthorityService> {
  return {
    issueCertificate: () => {
      throw unimplemented('IssueCertificate');
    },
    getCertificate: (req, ctx) => getCertificate(deps, req, ctx),
    listCertificates: (req, ctx) => listCertificatesHandler(deps, req, ctx),
    activateCertificate: () => {
      throw unimplemented('ActivateCertificate');
    },
    revokeCertificate: () => {
      throw unimplemented('RevokeCertificate');
    },
    getCertificateChain: (req, ctx) => getCertificateChain(deps, req, ctx),
    checkStatus: () => {
      throw unimplemented('CheckStatus');
    },
    timestamp: () => {
      throw unimplemented('Timestamp');
    },
    signData: () => {
      throw unimplemented('SignData');
    },
    getCrl: () => {
      throw unimplemented('GetCrl');
    },
  };
}
