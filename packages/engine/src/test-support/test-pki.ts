import 'reflect-metadata';
import { createPrivateKey, sign as nodeSign, webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { buildCoseSign1, claimSignatureReserveSize } from '../cose-sign1.js';
import type { ClaimSigner } from '../types.js';

/**
 * A throw-away C2PA PKI for tests, made fresh in memory on every run:
 * root → intermediate → { ES256 signing certificate, TSA certificate, OCSP responder }.
 * Tests only: the real certificate authority lives in its own package.
 */

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

export const EKU_C2PA_SIGNING = '1.3.6.1.4.1.62558.2.1';
export const EKU_DOCUMENT_SIGNING = '1.3.6.1.5.5.7.3.36';
export const EKU_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
export const EKU_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

export interface TestCredential {
  certificate: x509.X509Certificate;
  der: Uint8Array;
  pem: string;
  keys: CryptoKeyPair;
  privateKey: KeyObject;
  privateKeyPem: string;
}

export interface TestPki {
  root: TestCredential;
  intermediate: TestCredential;
  /** ES256 C2PA signing certificate issued by the intermediate. */
  signer: TestCredential;
  /** RFC 3161 time-stamping certificate (critical timeStamping EKU) issued by the intermediate. */
  tsa: TestCredential;
  /** Delegated OCSP responder (OCSPSigning EKU) issued by the intermediate. */
  ocspResponder: TestCredential;
  /** Signing certificate, then intermediate: the x5chain of a claim signature. */
  signerChainDer: Uint8Array[];
}

let serial = Date.now();
const nextSerial = () => (serial++).toString(16).padStart(16, '0');

async function credential(certificate: x509.X509Certificate, keys: CryptoKeyPair): Promise<TestCredential> {
  const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey));
  const privateKey = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  return {
    certificate,
    der: new Uint8Array(certificate.rawData),
    pem: certificate.toString('pem'),
    keys,
    privateKey,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

const generateKeys = async (): Promise<CryptoKeyPair> =>
  (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;

async function issue(
  issuer: TestCredential,
  subject: string,
  extensions: x509.Extension[],
  validity: { notBefore: Date; notAfter: Date },
): Promise<TestCredential> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: nextSerial(),
    subject,
    issuer: issuer.certificate.subject,
    ...validity,
    signingAlgorithm: ECDSA_SHA256,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    extensions: [
      ...extensions,
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
    ],
  });
  return credential(certificate, keys);
}

export async function createTestPki(name = 'Engine Test'): Promise<TestPki> {
  const now = Date.now();
  const validity = { notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 365 * 86_400_000) };

  const rootKeys = await generateKeys();
  const rootCertificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name: `CN=${name} Root CA,O=${name}`,
    ...validity,
    keys: rootKeys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const root = await credential(rootCertificate, rootKeys);

  const intermediate = await issue(root, `CN=${name} Intermediate CA,O=${name}`, [
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ], validity);

  const signer = await issue(intermediate, `CN=${name} Signer,O=${name} Newsroom`, [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([EKU_C2PA_SIGNING, EKU_DOCUMENT_SIGNING], false),
  ], validity);

  const tsa = await issue(intermediate, `CN=${name} Time-Stamping Authority,O=${name}`, [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([EKU_TIME_STAMPING], true),
  ], validity);

  const ocspResponder = await issue(intermediate, `CN=${name} OCSP Responder,O=${name}`, [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([EKU_OCSP_SIGNING], false),
  ], validity);

  return { root, intermediate, signer, tsa, ocspResponder, signerChainDer: [signer.der, intermediate.der] };
}

/** ES256 over the Sig_structure in IEEE P1363 form, as COSE wants it. */
export function es256(privateKey: KeyObject) {
  return async (toBeSigned: Uint8Array) =>
    new Uint8Array(nodeSign('sha256', toBeSigned, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
}

/** A ClaimSigner over the test PKI's signing key, optionally time-stamped and with OCSP staples. */
export function testClaimSigner(
  pki: TestPki,
  options: {
    timeStamp?: (countersignatureData: Uint8Array) => Promise<Uint8Array>;
    ocspResponses?: Uint8Array[];
    onClaim?: (claim: Uint8Array) => void;
  } = {},
): ClaimSigner {
  const reserveSize = claimSignatureReserveSize({
    alg: 'es256',
    certificateChainDer: pki.signerChainDer,
    timeStamp: options.timeStamp !== undefined,
    ocspResponseLength: options.ocspResponses?.reduce((sum, r) => sum + r.length, 0),
  });
  return {
    alg: 'es256',
    reserveSize,
    async sign(claim) {
      options.onClaim?.(claim);
      return buildCoseSign1({
        alg: 'es256',
        certificateChainDer: pki.signerChainDer,
        claim,
        signSigStructure: es256(pki.signer.privateKey),
        timeStamp: options.timeStamp,
        ocspResponses: options.ocspResponses,
        reserveSize,
      });
    },
  };
}
