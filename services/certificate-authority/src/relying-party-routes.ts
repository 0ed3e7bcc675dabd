import type { RelyingPartyRoute } from '@c2pa-mesh/server';
import type { CertificateAuthorityDeps } from './deps.js';

const PEM = 'application/x-pem-file';

/** What relying parties download without credentials: the C2PA trust anchor and chain. */
export function certificateAuthorityRoutes(deps: CertificateAuthorityDeps): RelyingPartyRoute[] {
  const chainPem = `${deps.c2paIntermediate.pem.trim()}\n${deps.c2paRoot.pem.trim()}\n`;
  return [
    { method: 'GET', path: '/ca/root.pem', handle: () => ({ status: 200, contentType: PEM, body: deps.c2paRoot.pem }) },
    { method: 'GET', path: '/ca/chain.pem', handle: () => ({ status: 200, contentType: PEM, body: chainPem }) },
    { method: 'GET', path: '/ca/intermediate.pem', handle: () => ({ status: 200, contentType: PEM, body: deps.c2paIntermediate.pem }) },
  ];
}
