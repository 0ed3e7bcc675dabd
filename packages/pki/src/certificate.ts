import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import ipaddr from 'ipaddr.js';
import * as pkijs from 'pkijs';
import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';
import type { KeySigner } from '@c2pa-mesh/key-custody';
import { publicKeyFromSpki, signatureAlgorithmIdentifier } from './algorithms.js';
import {
  isCaCertificate,
  keyIdentifier,
  readCertificateFields,
  subjectKeyIdentifierOf,
  type CertificateFields,
} from './certificate-fields.js';
import { bitString, namedBits, sequence, serialHexFromIntegerContent, unsignedIntegerContent } from './der.js';
import { checkSubjectPublicKey } from './key-policy.js';
import { encodeName, type DistinguishedName } from './names.js';
import { OID } from './oids.js';
import { toPem } from './pem.js';

export type CertificateProfile =
  | 'ROOT_CA'
  | 'INTERMEDIATE_CA'
  | 'C2PA_SIGNING'
  | 'OCSP_RESPONDER'
  | 'TSA'
  | 'MESH_CA'
  | 'MESH_CLIENT'
  | 'MESH_SERVER';

export const CERTIFICATE_PROFILES: readonly CertificateProfile[] = [
  'ROOT_CA',
  'INTERMEDIATE_CA',
  'C2PA_SIGNING',
  'OCSP_RESPONDER',
  'TSA',
  'MESH_CA',
  'MESH_CLIENT',
  'MESH_SERVER',
];

export interface SubjectAltNames {
  dns?: string[];
  ip?: string[];
  uri?: string[];
  email?: string[];
}

export type CertificateIssuer = { certificateDer: Uint8Array; signer: KeySigner } | { selfSigned: KeySigner };

export interface IssueCertificateOptions {
  profile: CertificateProfile;
  subject: DistinguishedName;
  subjectPublicKeySpki: Uint8Array;
  issuer: CertificateIssuer;
  /** Big-endian magnitude, 1–20 bytes. Default: 16 random bytes, positive (127 bits of entropy). */
  serialNumber?: Uint8Array;
  /** Default: five minutes ago, so clocks slightly behind still accept the certificate. */
  notBefore?: Date;
  /** Default: now + validityDays. Never later than the issuer's notAfter (clamped). */
  notAfter?: Date;
  validityDays?: number;
  san?: SubjectAltNames;
  ocspUrl?: string;
  caIssuersUrl?: string;
  crlUrl?: string;
  /** basicConstraints pathLenConstraint for CA profiles (INTERMEDIATE_CA default 0). */
  pathLength?: number;
}

export interface IssuedCertificate {
  der: Uint8Array;
  pem: string;
  serialNumberHex: string;
  notBefore: Date;
  notAfter: Date;
}

/** KeyUsage bits (RFC 5280 §4.2.1.3). */
const KU = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

interface ProfileRule {
  ca: boolean;
  selfSigned: boolean;
  keyUsage: number[];
  extendedKeyUsage?: string[];
  extendedKeyUsageCritical?: boolean;
  ocspNoCheck?: boolean;
  defaultValidityDays: number;
  defaultPathLength?: number;
}

/**
 * The profiles. The C2PA ones follow the C2PA specification §14.5 as c2pa-rs checks it
 * (`check_certificate_profile`): end-entity certificates carry AKI, digitalSignature, no CA flag
 * with keyCertSign, never anyExtendedKeyUsage, and timeStamping/OCSPSigning only on their own.
 */
const PROFILES: Record<CertificateProfile, ProfileRule> = {
  ROOT_CA: { ca: true, selfSigned: true, keyUsage: [KU.keyCertSign, KU.cRLSign], defaultValidityDays: 3650 },
  MESH_CA: { ca: true, selfSigned: true, keyUsage: [KU.keyCertSign, KU.cRLSign], defaultValidityDays: 3650 },
  INTERMEDIATE_CA: {
    ca: true,
    selfSigned: false,
    keyUsage: [KU.keyCertSign, KU.cRLSign],
    defaultValidityDays: 1825,
    defaultPathLength: 0,
  },
  C2PA_SIGNING: {
    ca: false,
    selfSigned: false,
    keyUsage: [KU.digitalSignature],
    extendedKeyUsage: [OID.c2paSigning, OID.documentSigning, OID.emailProtection],
    defaultValidityDays: 365,
  },
  OCSP_RESPONDER: {
    ca: false,
    selfSigned: false,
    keyUsage: [KU.digitalSignature],
    extendedKeyUsage: [OID.ocspSigning],
    ocspNoCheck: true,
    defaultValidityDays: 365,
  },
  TSA: {
    ca: false,
    selfSigned: false,
    keyUsage: [KU.digitalSignature, KU.nonRepudiation],
    // RFC 3161 §2.3: exactly one EKU, timeStamping, and the extension critical.
    extendedKeyUsage: [OID.timeStamping],
    extendedKeyUsageCritical: true,
    defaultValidityDays: 1825,
  },
  MESH_CLIENT: {
    ca: false,
    selfSigned: false,
    keyUsage: [KU.digitalSignature],
    extendedKeyUsage: [OID.clientAuth],
    defaultValidityDays: 365,
  },
  MESH_SERVER: {
    ca: false,
    selfSigned: false,
    keyUsage: [KU.digitalSignature, KU.keyEncipherment],
    // clientAuth too, so one service certificate serves both ends of a mesh connection.
    extendedKeyUsage: [OID.serverAuth, OID.clientAuth],
    defaultValidityDays: 365,
  },
};

const DAY_MS = 24 * 60 * 60 * 1000;
const BACKDATE_MS = 5 * 60 * 1000;
const MAX_SERIAL_BYTES = 20;

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function extension(extnID: string, critical: boolean, value: asn1js.BaseBlock | { toSchema(): asn1js.BaseBlock }): pkijs.Extension {
  const schema = value instanceof asn1js.BaseBlock ? value : value.toSchema();
  return new pkijs.Extension({ extnID, critical, extnValue: schema.toBER() });
}

function uriName(url: string, what: string): pkijs.GeneralName {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw invalidArgument(`${what} "${url}" is not a URL`, { cause });
  }
  if (!/^[\x21-\x7e]+$/.test(url)) throw invalidArgument(`${what} "${url}" must be ASCII without spaces`);
  if (what !== 'SAN URI' && parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    // Relying parties fetch these; RFC 5280 §4.2.2.1 and RFC 5019 expect http.
    throw invalidArgument(`${what} "${url}" must be an http(s) URL`);
  }
  return new pkijs.GeneralName({ type: 6, value: url });
}

const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function subjectAltNames(san: SubjectAltNames): pkijs.GeneralName[] {
  const names: pkijs.GeneralName[] = [];
  for (const dns of san.dns ?? []) {
    if (dns.length > 253 || !DNS_NAME.test(dns)) throw invalidArgument(`SAN DNS name "${dns}" is not a valid host name`);
    names.push(new pkijs.GeneralName({ type: 2, value: dns.toLowerCase() }));
  }
  for (const ip of san.ip ?? []) {
    if (!ipaddr.isValid(ip)) throw invalidArgument(`SAN IP address "${ip}" is not an IPv4 or IPv6 address`);
    const bytes = Uint8Array.from(ipaddr.parse(ip).toByteArray());
    names.push(new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: toArrayBuffer(bytes) }) }));
  }
  for (const uri of san.uri ?? []) names.push(uriName(uri, 'SAN URI'));
  for (const email of san.email ?? []) {
    if (!/^[\x21-\x3f\x41-\x7e]+@[a-z0-9.-]+$/i.test(email)) throw invalidArgument(`SAN email "${email}" is not an email address`);
    names.push(new pkijs.GeneralName({ type: 1, value: email }));
  }
  return names;
}

function randomSerial(): Uint8Array {
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // positive
  if (serial[0] === 0) serial[0] = 0x01; // keep 16 significant bytes
  return new Uint8Array(serial);
}

function checkSerial(serial: Uint8Array): Uint8Array {
  const content = unsignedIntegerContent(serial);
  if (content.length > MAX_SERIAL_BYTES || (content.length === 1 && content[0] === 0)) {
    throw invalidArgument('serial numbers must be positive and at most 20 bytes (RFC 5280 §4.1.2.2)');
  }
  return content;
}

function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function x509Time(date: Date): pkijs.Time {
  const year = date.getUTCFullYear();
  return new pkijs.Time({ type: year >= 1950 && year <= 2049 ? 0 : 1, value: date });
}

interface IssuerContext {
  signer: KeySigner;
  nameDer: Uint8Array;
  keyIdentifier: Uint8Array;
  notAfter?: Date;
}

// Issuer certificates are parsed once per Uint8Array the caller holds (a CA issues many certificates).
const issuerCache = new WeakMap<Uint8Array, { fields: CertificateFields; isCa: boolean }>();

function issuerContext(issuer: CertificateIssuer, subjectName: Uint8Array, subjectSpki: Uint8Array): IssuerContext {
  if ('selfSigned' in issuer) {
    const signer = issuer.selfSigned;
    if (!sameKey(signer.publicKeySpki, subjectSpki)) {
      throw invalidArgument('a self-signed certificate must certify the signer\'s own public key');
    }
    return { signer, nameDer: subjectName, keyIdentifier: keyIdentifier(readSpkiBits(subjectSpki)) };
  }
  let cached = issuerCache.get(issuer.certificateDer);
  if (!cached) {
    const fields = readCertificateFields(issuer.certificateDer);
    cached = { fields, isCa: isCaCertificate(fields) };
    issuerCache.set(issuer.certificateDer, cached);
  }
  if (!cached.isCa) throw failedPrecondition('the issuer certificate is not a CA certificate (basicConstraints cA is not set)');
  if (!sameKey(issuer.signer.publicKeySpki, cached.fields.subjectPublicKeySpki)) {
    throw invalidArgument('the issuer signer\'s key does not match the issuer certificate\'s public key');
  }
  return {
    signer: issuer.signer,
    nameDer: cached.fields.subjectName,
    keyIdentifier: subjectKeyIdentifierOf(cached.fields),
    notAfter: cached.fields.notAfter,
  };
}

function readSpkiBits(spki: Uint8Array): Uint8Array {
  const info = pkijs.PublicKeyInfo.fromBER(toArrayBuffer(spki));
  return new Uint8Array(info.subjectPublicKey.valueBlock.valueHexView);
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  if (Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))) return true;
  try {
    return publicKeyFromSpki(a).equals(publicKeyFromSpki(b));
  } catch {
    return false;
  }
}

function validity(options: IssueCertificateOptions, rule: ProfileRule, issuerNotAfter?: Date): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  const notBefore = wholeSeconds(options.notBefore ?? new Date(now - BACKDATE_MS));
  let notAfter: Date;
  if (options.notAfter) {
    notAfter = wholeSeconds(options.notAfter);
  } else {
    const days = options.validityDays ?? rule.defaultValidityDays;
    if (!Number.isFinite(days) || days <= 0 || days > 36500) {
      throw invalidArgument(`validityDays must be between 1 and 36500, got ${days}`);
    }
    notAfter = wholeSeconds(new Date(now + days * DAY_MS));
  }
  if (issuerNotAfter && notAfter > issuerNotAfter) notAfter = wholeSeconds(issuerNotAfter);
  if (!(notAfter > notBefore)) throw invalidArgument('notAfter must be later than notBefore (and than the issuer\'s notBefore)');
  return { notBefore, notAfter };
}

/** Issues an X.509 v3 certificate of `profile`; the TBSCertificate is signed through the issuer's KeySigner. */
export async function issueCertificate(options: IssueCertificateOptions): Promise<IssuedCertificate> {
  const rule = PROFILES[options.profile];
  if (!rule) throw invalidArgument(`unknown certificate profile "${options.profile}"; use one of ${CERTIFICATE_PROFILES.join(', ')}`);
  const selfSigned = 'selfSigned' in options.issuer;
  if (rule.selfSigned !== selfSigned) {
    throw invalidArgument(
      rule.selfSigned
        ? `${options.profile} certificates are self-signed: pass issuer { selfSigned: signer }`
        : `${options.profile} certificates are issued by a CA: pass issuer { certificateDer, signer }`,
    );
  }
  checkSubjectPublicKey(options.subjectPublicKeySpki);
  if (options.pathLength !== undefined && (!rule.ca || !Number.isInteger(options.pathLength) || options.pathLength < 0)) {
    throw invalidArgument('pathLength applies to CA profiles only and must be a non-negative integer');
  }

  const subjectName = encodeName(options.subject);
  const issuer = issuerContext(options.issuer, subjectName, options.subjectPublicKeySpki);
  const { notBefore, notAfter } = validity(options, rule, issuer.notAfter);
  const serialContent = checkSerial(options.serialNumber ?? randomSerial());
  const subjectKeyId = keyIdentifier(readSpkiBits(options.subjectPublicKeySpki));

  const extensions: pkijs.Extension[] = [];
  const pathLength = options.pathLength ?? rule.defaultPathLength;
  extensions.push(
    extension(
      OID.basicConstraints,
      rule.ca,
      new pkijs.BasicConstraints(rule.ca ? { cA: true, ...(pathLength !== undefined ? { pathLenConstraint: pathLength } : {}) } : {}),
    ),
  );
  const usage = namedBits(rule.keyUsage);
  extensions.push(
    extension(OID.keyUsage, true, new asn1js.BitString({ valueHex: toArrayBuffer(usage.bytes), unusedBits: usage.unusedBits })),
  );
  if (rule.extendedKeyUsage) {
    extensions.push(
      extension(OID.extKeyUsage, rule.extendedKeyUsageCritical ?? false, new pkijs.ExtKeyUsage({ keyPurposes: rule.extendedKeyUsage })),
    );
  }
  extensions.push(extension(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: toArrayBuffer(subjectKeyId) })));
  extensions.push(
    extension(
      OID.authorityKeyIdentifier,
      false,
      new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: toArrayBuffer(issuer.keyIdentifier) }) }),
    ),
  );
  const altNames = subjectAltNames(options.san ?? {});
  if (altNames.length > 0) extensions.push(extension(OID.subjectAltName, false, new pkijs.GeneralNames({ names: altNames })));
  const access: pkijs.AccessDescription[] = [];
  if (options.ocspUrl) {
    access.push(new pkijs.AccessDescription({ accessMethod: OID.accessOcsp, accessLocation: uriName(options.ocspUrl, 'OCSP URL') }));
  }
  if (options.caIssuersUrl) {
    access.push(
      new pkijs.AccessDescription({ accessMethod: OID.accessCaIssuers, accessLocation: uriName(options.caIssuersUrl, 'CA issuers URL') }),
    );
  }
  if (access.length > 0) extensions.push(extension(OID.authorityInfoAccess, false, new pkijs.InfoAccess({ accessDescriptions: access })));
  if (options.crlUrl) {
    extensions.push(
      extension(
        OID.crlDistributionPoints,
        false,
        new pkijs.CRLDistributionPoints({
          distributionPoints: [new pkijs.DistributionPoint({ distributionPoint: [uriName(options.crlUrl, 'CRL URL')] })],
        }),
      ),
    );
  }
  if (rule.ocspNoCheck) extensions.push(extension(OID.ocspNoCheck, false, new asn1js.Null()));

  const signatureAlgorithm = signatureAlgorithmIdentifier(issuer.signer.algorithm);
  const certificate = new pkijs.Certificate();
  certificate.version = 2;
  certificate.serialNumber = new asn1js.Integer({ valueHex: toArrayBuffer(serialContent) });
  certificate.signature = pkijs.AlgorithmIdentifier.fromBER(toArrayBuffer(signatureAlgorithm));
  certificate.issuer = pkijs.RelativeDistinguishedNames.fromBER(toArrayBuffer(issuer.nameDer));
  certificate.notBefore = x509Time(notBefore);
  certificate.notAfter = x509Time(notAfter);
  certificate.subject = pkijs.RelativeDistinguishedNames.fromBER(toArrayBuffer(subjectName));
  certificate.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(toArrayBuffer(options.subjectPublicKeySpki));
  certificate.extensions = extensions;

  const tbs = new Uint8Array(certificate.encodeTBS().toBER());
  const signature = await issuer.signer.sign(tbs, { ecdsaEncoding: 'der' });
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
  const der = sequence(tbs, signatureAlgorithm, bitString(signature));
  return {
    der,
    pem: toPem(der, 'CERTIFICATE'),
    serialNumberHex: serialHexFromIntegerContent(serialContent),
    notBefore,
    notAfter,
  };
}
