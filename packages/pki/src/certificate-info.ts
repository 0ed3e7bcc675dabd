import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import ipaddr from 'ipaddr.js';
import * as pkijs from 'pkijs';
import { invalidArgument } from '@c2pa-mesh/errors';
import type { KeyAlgorithm } from '@c2pa-mesh/key-custody';
import { readCertificateFields } from './certificate-fields.js';
import { checkSubjectPublicKey } from './key-policy.js';
import { readName, type NameInfo } from './names.js';
import { OID } from './oids.js';
import { derFromInput } from './pem.js';

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

const KEY_USAGE_NAMES: KeyUsageName[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

export interface CertificateInfo {
  der: Uint8Array;
  serialNumberHex: string;
  subject: NameInfo;
  issuer: NameInfo;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex (a key fingerprint). */
  spkiSha256Hex: string;
  /** SHA-256 of the whole certificate, lowercase hex. */
  fingerprintSha256Hex: string;
  subjectPublicKeySpki: Uint8Array;
  /** The algorithm the key signs with under the mesh key policy; 'unsupported' when outside it. */
  keyAlgorithm: KeyAlgorithm | 'unsupported';
  isCa: boolean;
  pathLength?: number;
  selfIssued: boolean;
  keyUsage: KeyUsageName[];
  /** Extended key usage OIDs, as listed. */
  extendedKeyUsage: string[];
  sanDns: string[];
  sanIps: string[];
  sanUris: string[];
  sanEmails: string[];
  ocspUrls: string[];
  caIssuersUrls: string[];
  crlUrls: string[];
  subjectKeyIdentifierHex?: string;
  authorityKeyIdentifierHex?: string;
  /** OIDs of extensions marked critical. */
  criticalExtensions: string[];
}

function hex(bytes: ArrayBuffer | Uint8Array): string {
  return Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString('hex');
}

export function collectSubjectAltNames(names: pkijs.GeneralName[], into: Pick<CertificateInfo, 'sanDns' | 'sanIps' | 'sanUris' | 'sanEmails'>): void {
  for (const name of names) {
    switch (name.type) {
      case 1:
        into.sanEmails.push(String(name.value));
        break;
      case 2:
        into.sanDns.push(String(name.value));
        break;
      case 6:
        into.sanUris.push(String(name.value));
        break;
      case 7: {
        const bytes = Array.from((name.value as asn1js.OctetString).valueBlock.valueHexView);
        if (bytes.length === 4 || bytes.length === 16) into.sanIps.push(ipaddr.fromByteArray(bytes).toString());
        break;
      }
    }
  }
}

function urisOf(names: pkijs.GeneralName[] | undefined): string[] {
  return (names ?? []).filter((name) => name.type === 6).map((name) => String(name.value));
}

/** Reads a certificate (DER, or a PEM string with one CERTIFICATE block) without verifying it. */
export function parseCertificate(derOrPem: Uint8Array | string): CertificateInfo {
  const der = derFromInput(derOrPem, 'CERTIFICATE', 'certificate');
  const fields = readCertificateFields(der);
  let certificate: pkijs.Certificate;
  try {
    certificate = pkijs.Certificate.fromBER(der);
  } catch (cause) {
    throw invalidArgument('not a DER X.509 certificate', { cause });
  }
  let keyAlgorithm: CertificateInfo['keyAlgorithm'];
  try {
    keyAlgorithm = checkSubjectPublicKey(fields.subjectPublicKeySpki);
  } catch {
    keyAlgorithm = 'unsupported';
  }
  const subject = readName(fields.subjectName);
  const issuer = readName(fields.issuerName);
  const info: CertificateInfo = {
    der,
    serialNumberHex: fields.serialNumberHex,
    subject,
    issuer,
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
    spkiSha256Hex: hex(createHash('sha256').update(fields.subjectPublicKeySpki).digest()),
    fingerprintSha256Hex: hex(createHash('sha256').update(der).digest()),
    subjectPublicKeySpki: fields.subjectPublicKeySpki,
    keyAlgorithm,
    isCa: false,
    selfIssued: Buffer.from(fields.subjectName).equals(Buffer.from(fields.issuerName)),
    keyUsage: [],
    extendedKeyUsage: [],
    sanDns: [],
    sanIps: [],
    sanUris: [],
    sanEmails: [],
    ocspUrls: [],
    caIssuersUrls: [],
    crlUrls: [],
    criticalExtensions: fields.extensions.filter((e) => e.critical).map((e) => e.oid),
  };
  for (const extension of certificate.extensions ?? []) {
    const value = extension.parsedValue;
    if (value === undefined) continue;
    switch (extension.extnID) {
      case OID.basicConstraints: {
        const constraints = value as pkijs.BasicConstraints;
        info.isCa = constraints.cA === true;
        const pathLength = constraints.pathLenConstraint;
        if (pathLength !== undefined) {
          info.pathLength = typeof pathLength === 'number' ? pathLength : pathLength.valueBlock.valueDec;
        }
        break;
      }
      case OID.keyUsage: {
        const bits = (value as asn1js.BitString).valueBlock.valueHexView;
        info.keyUsage = KEY_USAGE_NAMES.filter((_, bit) => ((bits[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0);
        break;
      }
      case OID.extKeyUsage:
        info.extendedKeyUsage = [...(value as pkijs.ExtKeyUsage).keyPurposes];
        break;
      case OID.subjectAltName:
        collectSubjectAltNames((value as pkijs.AltName).altNames, info);
        break;
      case OID.subjectKeyIdentifier:
        info.subjectKeyIdentifierHex = hex((value as asn1js.OctetString).valueBlock.valueHexView);
        break;
      case OID.authorityKeyIdentifier: {
        const keyId = (value as pkijs.AuthorityKeyIdentifier).keyIdentifier;
        if (keyId) info.authorityKeyIdentifierHex = hex(keyId.valueBlock.valueHexView);
        break;
      }
      case OID.authorityInfoAccess:
        for (const description of (value as pkijs.InfoAccess).accessDescriptions) {
          const uris = urisOf([description.accessLocation]);
          if (description.accessMethod === OID.accessOcsp) info.ocspUrls.push(...uris);
          if (description.accessMethod === OID.accessCaIssuers) info.caIssuersUrls.push(...uris);
        }
        break;
      case OID.crlDistributionPoints:
        for (const point of (value as pkijs.CRLDistributionPoints).distributionPoints) {
          if (Array.isArray(point.distributionPoint)) info.crlUrls.push(...urisOf(point.distributionPoint));
        }
        break;
    }
  }
  return info;
}
