import * as pkijs from 'pkijs';
import { MeshError, invalidArgument } from '@c2pa-mesh/errors';
import type { KeyAlgorithm } from '@c2pa-mesh/key-custody';
import { verifySignature } from './algorithms.js';
import { DerError, TAG, children, contentOf, encodingOf, expectTag, readSingle, readSmallInteger } from './der.js';
import { checkSubjectPublicKey } from './key-policy.js';
import { readName, type NameInfo } from './names.js';
import { OID } from './oids.js';
import { derFromInput } from './pem.js';
import { collectSubjectAltNames } from './certificate-info.js';

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
  try {
    const request = readSingle(der, TAG.SEQUENCE);
    const [requestInfo, signatureAlgorithm, signature] = children(request);
    expectTag(requestInfo, TAG.SEQUENCE, 'certificationRequestInfo');
    expectTag(signatureAlgorithm, TAG.SEQUENCE, 'signatureAlgorithm');
    expectTag(signature, TAG.BIT_STRING, 'signature');
    const [version, subject, publicKeyInfo] = children(requestInfo);
    if (readSmallInteger(expectTag(version, TAG.INTEGER, 'version'), 'version') !== 0) {
      throw new DerError('only version 1 (0) requests exist');
    }
    subjectName = encodingOf(expectTag(subject, TAG.SEQUENCE, 'subject'));
    spki = encodingOf(expectTag(publicKeyInfo, TAG.SEQUENCE, 'subjectPKInfo'));
    info = encodingOf(requestInfo);
    checkSubjectPublicKey(spki);
    let valid: boolean;
    try {
      valid = verifySignature(spki, signatureAlgorithm, info, contentOf(signature).subarray(1));
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
    keyAlgorithm: checkSubjectPublicKey(spki),
    sanDns: [],
    sanIps: [],
    sanUris: [],
    sanEmails: [],
  };
  let request: pkijs.CertificationRequest;
  try {
    request = pkijs.CertificationRequest.fromBER(der);
  } catch (cause) {
    throw invalidArgument('the CSR attributes cannot be read', { cause });
  }
  for (const attribute of request.attributes ?? []) {
    if (attribute.type !== OID.extensionRequest) continue;
    for (const value of attribute.values) {
      const extensions = pkijs.Extensions.fromBER(value.toBER());
      for (const extension of extensions.extensions) {
        if (extension.extnID === OID.subjectAltName && extension.parsedValue) {
          collectSubjectAltNames((extension.parsedValue as pkijs.AltName).altNames, result);
        }
      }
    }
  }
  return result;
}
