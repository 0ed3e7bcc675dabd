import { createHash } from 'node:crypto';
import { invalidArgument } from '@c2pa-mesh/errors';
import { subjectPublicKeyBits } from './algorithms.js';
import {
  DerError,
  TAG,
  children,
  contentOf,
  encodingOf,
  expectTag,
  readBoolean,
  readOid,
  readSingle,
  readTime,
  serialHexFromIntegerContent,
  type DerElement,
} from './der.js';
import { OID } from './oids.js';

/**
 * The exact bytes of the certificate fields that other structures copy or hash: names (an issuer
 * name must be byte-identical to its CA's subject), the public key, the serial. Read with the DER
 * walker so nothing is re-encoded.
 */
export interface CertificateFields {
  der: Uint8Array;
  tbs: Uint8Array;
  /** INTEGER contents of the serial number (with its sign byte, as encoded). */
  serialContent: Uint8Array;
  serialNumberHex: string;
  issuerName: Uint8Array;
  subjectName: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  subjectPublicKeySpki: Uint8Array;
  /** subjectPublicKey BIT STRING value: what key identifiers and OCSP key hashes hash. */
  subjectPublicKeyBits: Uint8Array;
  signatureAlgorithm: DerElement;
  signatureValue: Uint8Array;
  extensions: Array<{ oid: string; critical: boolean; value: Uint8Array }>;
}

export function readCertificateFields(der: Uint8Array): CertificateFields {
  try {
    const certificate = readSingle(der, TAG.SEQUENCE);
    const [tbsElement, signatureAlgorithm, signatureValue] = children(certificate);
    expectTag(tbsElement, TAG.SEQUENCE, 'tbsCertificate');
    expectTag(signatureAlgorithm, TAG.SEQUENCE, 'signatureAlgorithm');
    expectTag(signatureValue, TAG.BIT_STRING, 'signatureValue');
    const fields = children(tbsElement);
    let i = 0;
    if (fields[i]?.tag === 0xa0) i++; // version
    const serial = expectTag(fields[i++], TAG.INTEGER, 'serialNumber');
    expectTag(fields[i++], TAG.SEQUENCE, 'signature');
    const issuer = expectTag(fields[i++], TAG.SEQUENCE, 'issuer');
    const [notBefore, notAfter] = children(expectTag(fields[i++], TAG.SEQUENCE, 'validity'));
    const subject = expectTag(fields[i++], TAG.SEQUENCE, 'subject');
    const spki = expectTag(fields[i++], TAG.SEQUENCE, 'subjectPublicKeyInfo');
    const extensions: CertificateFields['extensions'] = [];
    for (; i < fields.length; i++) {
      if (fields[i].tag !== 0xa3) continue; // issuer/subject unique IDs are skipped
      const [list] = children(fields[i]);
      for (const extension of children(expectTag(list, TAG.SEQUENCE, 'extensions'))) {
        const parts = children(extension);
        const critical = parts.length === 3 ? readBoolean(parts[1], 'critical') : false;
        const value = expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'extnValue');
        extensions.push({ oid: readOid(parts[0]), critical, value: contentOf(value) });
      }
    }
    const serialContent = contentOf(serial);
    return {
      der,
      tbs: encodingOf(tbsElement),
      serialContent,
      serialNumberHex: serialHexFromIntegerContent(serialContent),
      issuerName: encodingOf(issuer),
      subjectName: encodingOf(subject),
      notBefore: readTime(notBefore ?? fail('notBefore is missing')),
      notAfter: readTime(notAfter ?? fail('notAfter is missing')),
      subjectPublicKeySpki: encodingOf(spki),
      subjectPublicKeyBits: subjectPublicKeyBits(spki),
      signatureAlgorithm,
      signatureValue: contentOf(signatureValue).subarray(1),
      extensions,
    };
  } catch (cause) {
    if (cause instanceof DerError) throw invalidArgument(`not a DER X.509 certificate: ${cause.message}`, { cause });
    throw cause;
  }
}

function fail(message: string): never {
  throw new DerError(message);
}

/** The subject key identifier: the certificate's own extension, else SHA-1 of the key (RFC 5280 §4.2.1.2). */
export function subjectKeyIdentifierOf(fields: CertificateFields): Uint8Array {
  const extension = fields.extensions.find((e) => e.oid === OID.subjectKeyIdentifier);
  if (extension) {
    try {
      return contentOf(readSingle(extension.value, TAG.OCTET_STRING));
    } catch {
      // A malformed SKI is not fatal here: fall back to the computed one.
    }
  }
  return keyIdentifier(fields.subjectPublicKeyBits);
}

export function keyIdentifier(publicKeyBits: Uint8Array): Uint8Array {
  return createHash('sha1').update(publicKeyBits).digest();
}

/** True when the certificate carries basicConstraints with cA = TRUE. */
export function isCaCertificate(fields: CertificateFields): boolean {
  const extension = fields.extensions.find((e) => e.oid === OID.basicConstraints);
  if (!extension) return false;
  try {
    const [first] = children(readSingle(extension.value, TAG.SEQUENCE));
    return first?.tag === TAG.BOOLEAN && readBoolean(first, 'cA');
  } catch {
    return false; // an unreadable basicConstraints makes no CA
  }
}
