import { MeshError, invalidArgument } from '@c2pa-mesh/errors';
import type { KeyAlgorithm } from '@c2pa-mesh/key-custody';
import { verifySignature } from './algorithms.js';
import { DerError, TAG, children, contentOf, encodingOf, expectTag, readOid, readSingle, readSmallInteger, type DerElement } from './der.js';
import { readSubjectPublicKey } from './key-policy.js';
import { readName, type NameInfo } from './names.js';
import { OID } from './oids.js';
import { derFromInput } from './pem.js';
import { readSubjectAltNames } from './certificate-summary.js';

export interface CertificationRequestInfo {
  der: Uint8Array;
  subject: NameInfo;
  subjectPublicKeySpki: Uint8Array;
  /** The algorithm the requested key will sign with (RSA keys sign with PS256). */
  keyAlgorithm: KeyAlgorithm;
  sanDns: string[];
  sanIps: string[];
  sanUris: string[];
  sanEmails: string[];
}

/** Far above any real CSR; stops hostile input before parsing. */
const MAX_CSR_BYTES = 64 * 1024;

/**
 * Reads a PKCS#10 certification request (PEM or DER), verifies its self-signature and applies the
 * key policy. Anything wrong is an `invalid_argument` that says what.
 */
export function parseCertificationRequest(pemOrDer: string | Uint8Array): CertificationRequestInfo {
  if ((typeof pemOrDer === 'string' ? pemOrDer.length : pemOrDer.byteLength) > MAX_CSR_BYTES) {
    throw invalidArgument(`the CSR is larger than ${MAX_CSR_BYTES} bytes`);
  }
  const der = derFromInput(pemOrDer, 'CERTIFICATE REQUEST', 'CSR');
  let info: Uint8Array;
  let spki: Uint8Array;
  let subjectName: Uint8Array;
  let attributes: DerElement | undefined;
  let keyAlgorithm: KeyAlgorithm;
  try {
    const request = readSingle(der, TAG.SEQUENCE);
    const [requestInfo, signatureAlgorithm, signature] = children(request);
    expectTag(requestInfo, TAG.SEQUENCE, 'certificationRequestInfo');
    expectTag(signatureAlgorithm, TAG.SEQUENCE, 'signatureAlgorithm');
    expectTag(signature, TAG.BIT_STRING, 'signature');
    const [version, subject, publicKeyInfo, requestAttributes] = children(requestInfo);
    attributes = requestAttributes?.tag === 0xa0 ? requestAttributes : undefined;
    if (readSmallInteger(expectTag(version, TAG.INTEGER, 'version'), 'version') !== 0) {
      throw new DerError('only version 1 (0) requests exist');
    }
    subjectName = encodingOf(expectTag(subject, TAG.SEQUENCE, 'subject'));
    spki = encodingOf(expectTag(publicKeyInfo, TAG.SEQUENCE, 'subjectPKInfo'));
    info = encodingOf(requestInfo);
    // The key is decoded once, for the policy and the signature check alike.
    const subjectKey = readSubjectPublicKey(spki);
    keyAlgorithm = subjectKey.algorithm;
    let valid: boolean;
    try {
      valid = verifySignature(subjectKey.key, signatureAlgorithm, info, contentOf(signature).subarray(1));
    } catch (cause) {
      if (cause instanceof DerError) throw invalidArgument(`the CSR cannot be checked: ${cause.message}`, { cause });
      valid = false;
    }
    if (!valid) {
      throw invalidArgument('the CSR signature does not verify: it was not signed by the key it carries, or it was altered');
    }
  } catch (cause) {
    if (cause instanceof MeshError) throw cause;
    throw invalidArgument(`not a PKCS#10 certification request: ${(cause as Error).message}`, { cause });
  }

  const result: CertificationRequestInfo = {
    der,
    subject: readName(subjectName),
    subjectPublicKeySpki: spki,
    keyAlgorithm,
    sanDns: [],
    sanIps: [],
    sanUris: [],
    sanEmails: [],
  };
  // Attribute { type, values SET OF }; extensionRequest holds Extensions (SEQUENCE OF Extension).
  // Read with the DER walker, like the rest: schema parsing would cost more than the signature check.
  try {
    for (const attribute of attributes ? children(attributes) : []) {
      const [type, values] = children(expectTag(attribute, TAG.SEQUENCE, 'Attribute'));
      if (readOid(type) !== OID.extensionRequest) continue;
      for (const extensions of children(expectTag(values, TAG.SET, 'attribute values'))) {
        for (const extension of children(expectTag(extensions, TAG.SEQUENCE, 'Extensions'))) {
          const parts = children(expectTag(extension, TAG.SEQUENCE, 'Extension'));
          if (readOid(parts[0]) !== OID.subjectAltName) continue;
          readSubjectAltNames(contentOf(expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'extnValue')), result);
        }
      }
    }
  } catch (cause) {
    if (cause instanceof MeshError) throw cause;
    throw invalidArgument(`the CSR attributes cannot be read: ${(cause as Error).message}`, { cause });
  }
  return result;
}
