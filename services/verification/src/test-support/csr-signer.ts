import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Client } from '@connectrpc/connect';
import { buildCoseSign1, claimSignatureReserveSize, type ClaimSigner } from '@c2pa-mesh/engine';
import { pemToDer } from '@c2pa-mesh/pki';
import type { CertificateAuthorityService } from '@c2pa-mesh/proto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/**
 * A C2PA signing certificate our CA issues from a CSR (the key stays here), and a claim signer
 * over it: how a partner that keeps its own key signs with a certificate of ours.
 */
export async function csrSigner(
  ca: Client<typeof CertificateAuthorityService>,
  options: {
    commonName: string;
    projectId: string;
    requireActivation?: boolean;
    /** What goes into sigTst2 for the countersignature bytes; none: no time-stamp. */
    timeStamp?: (countersignatureData: Uint8Array) => Promise<Uint8Array>;
  },
): Promise<{ certificateId: string; status: string; claimSigner: ClaimSigner }> {
  const keys = (await webcrypto.subtle.generateKey(EC_P256, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${options.commonName}`,
    keys: keys as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['keys'],
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  const { certificate } = await ca.issueCertificate({
    profile: 'C2PA_SIGNING',
    csrPem: csr.toString('pem'),
    projectId: options.projectId,
    requireActivation: options.requireActivation ?? false,
  });
  // Leaf first, then the intermediate(s); the root is the relying party's anchor.
  const chain = [...pemToDer(certificate!.certificatePem), ...pemToDer(certificate!.chainPem)];
  const reserveSize = claimSignatureReserveSize({ alg: 'es256', certificateChainDer: chain, timeStamp: options.timeStamp !== undefined });
  return {
    certificateId: certificate!.certificateId,
    status: certificate!.status,
    claimSigner: {
      alg: 'es256',
      reserveSize,
      sign: (claim) =>
        buildCoseSign1({
          alg: 'es256',
          certificateChainDer: chain,
          claim,
          signSigStructure: async (toBeSigned) => new Uint8Array(await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, toBeSigned)),
          ...(options.timeStamp === undefined ? {} : { timeStamp: options.timeStamp }),
          reserveSize,
        }),
    },
  };
}
