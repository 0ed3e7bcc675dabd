import type { ServiceImpl } from '@connectrpc/connect';
import type { CertificateAuthorityService } from '@c2pa-mesh/proto';
import type { CertificateAuthority } from './certificate-authority.js';
import { getCertificateChain } from './certificate-chain.js';
import { activateCertificate, revokeCertificate } from './certificate-lifecycle.js';
import { getCertificate, listCertificatesHandler } from './certificate-queries.js';
import { checkStatus } from './check-status.js';
import { getCrl } from './get-crl.js';
import { issueCertificateHandler } from './issue-certificate.js';
import { signData } from './sign-data.js';
import { timestamp } from './timestamp.js';

/** The full CertificateAuthorityService: every RPC is listed here, so a missing one does not compile. */
export function createCertificateAuthorityService(ca: CertificateAuthority): ServiceImpl<typeof CertificateAuthorityService> {
  return {
    issueCertificate: (req, ctx) => issueCertificateHandler(ca, req, ctx),
    getCertificate: (req, ctx) => getCertificate(ca.deps, req, ctx),
    listCertificates: (req, ctx) => listCertificatesHandler(ca.deps, req, ctx),
    activateCertificate: (req, ctx) => activateCertificate(ca, req, ctx),
    revokeCertificate: (req, ctx) => revokeCertificate(ca, req, ctx),
    getCertificateChain: (req, ctx) => getCertificateChain(ca.deps, req, ctx),
    checkStatus: (req, ctx) => checkStatus(ca, req, ctx),
    timestamp: (req, ctx) => timestamp(ca, req, ctx),
    signData: (req, ctx) => signData(ca, req, ctx),
    getCrl: (req) => getCrl(ca, req),
  };
}
