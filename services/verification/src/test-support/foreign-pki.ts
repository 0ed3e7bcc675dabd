import { buildCoseSign1, claimSignatureReserveSize, type ClaimSigner } from '@c2pa-mesh/engine';
import { generateKeyPair } from '@c2pa-mesh/key-custody';
import { issueCertificate } from '@c2pa-mesh/pki';

/**
 * A C2PA PKI that is not the mesh's (root → intermediate → signer), made in memory for a test:
 * what another organisation's credentials look like to our Verification service.
 */
export interface ForeignPki {
  rootPem: string;
  intermediatePem: string;
  signerPem: string;
  /** A claim signer for the engine, without time-stamp or OCSP staple. */
  claimSigner: ClaimSigner;
}

/** `signerSerialHex`: give the signing certificate this serial number (e.g. one of ours). */
export async function createForeignPki(name: string, options: { signerSerialHex?: string } = {}): Promise<ForeignPki> {
  const rootKey = await generateKeyPair('ES256');
  const root = await issueCertificate({
    profile: 'ROOT_CA',
    subject: { commonName: `${name} Root CA`, organization: name },
    subjectPublicKeySpki: rootKey.signer.publicKeySpki,
    issuer: { selfSigned: rootKey.signer },
    validityDays: 30,
  });
  const intermediateKey = await generateKeyPair('ES256');
  const intermediate = await issueCertificate({
    profile: 'INTERMEDIATE_CA',
    subject: { commonName: `${name} Intermediate CA`, organization: name },
    subjectPublicKeySpki: intermediateKey.signer.publicKeySpki,
    issuer: { certificateDer: root.der, signer: rootKey.signer },
    validityDays: 30,
  });
  const signerKey = await generateKeyPair('ES256');
  const signer = await issueCertificate({
    profile: 'C2PA_SIGNING',
    subject: { commonName: `${name} Signer`, organization: name },
    subjectPublicKeySpki: signerKey.signer.publicKeySpki,
    ...(options.signerSerialHex ? { serialNumber: new Uint8Array(Buffer.from(options.signerSerialHex.padStart(options.signerSerialHex.length + (options.signerSerialHex.length % 2), '0'), 'hex')) } : {}),
    issuer: { certificateDer: intermediate.der, signer: intermediateKey.signer },
    validityDays: 30,
  });
  const chain = [signer.der, intermediate.der];
  const reserveSize = claimSignatureReserveSize({ alg: 'es256', certificateChainDer: chain, timeStamp: false });
  return {
    rootPem: root.pem,
    intermediatePem: intermediate.pem,
    signerPem: signer.pem,
    claimSigner: {
      alg: 'es256',
      reserveSize,
      sign: (claim) =>
        buildCoseSign1({
          alg: 'es256',
          certificateChainDer: chain,
          claim,
          signSigStructure: (toBeSigned) => signerKey.signer.sign(toBeSigned, { ecdsaEncoding: 'ieee-p1363' }),
          reserveSize,
        }),
    },
  };
}
