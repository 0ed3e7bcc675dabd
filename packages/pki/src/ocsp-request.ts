import { invalidArgument } from '@c2pa-mesh/errors';
import { DIGEST_LENGTH, digestAlgorithmFromOid } from './algorithms.js';
import {
  DerError,
  TAG,
  children,
  contentOf,
  expectTag,
  readOid,
  readSingle,
  readSmallInteger,
  readUnsignedIntegerContent,
  serialHexFromIntegerContent,
  type DerElement,
} from './der.js';
import { OID } from './oids.js';

/** A CertID (RFC 6960 §4.1.1): which certificate, named through hashes of its issuer. */
export interface OcspCertId {
  hashAlgorithm: 'sha1' | 'sha256';
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  /** Canonical serial: lowercase hex of the magnitude. */
  serialNumberHex: string;
}

export interface OcspRequest {
  certIds: OcspCertId[];
  /** The nonce extension's extnValue contents, echoed byte for byte in the response. */
  nonce?: Uint8Array;
}

/** RFC 5019 clients send one CertID; a few more are allowed, a flood is refused. */
const MAX_CERT_IDS = 16;
/** RFC 8954 allows 1–32 octets; older clients wrap them, hence a little headroom. */
const MAX_NONCE_BYTES = 64;
/** Far above any real request (one CertID plus a nonce is ~100 bytes). */
export const MAX_OCSP_REQUEST_BYTES = 8 * 1024;

function readCertId(element: DerElement): OcspCertId {
  const [algorithm, nameHash, keyHash, serial] = children(expectTag(element, TAG.SEQUENCE, 'CertID'));
  const [algorithmOid] = children(expectTag(algorithm, TAG.SEQUENCE, 'CertID hashAlgorithm'));
  const dotted = readOid(algorithmOid);
  const hashAlgorithm = digestAlgorithmFromOid(dotted);
  if (hashAlgorithm !== 'sha1' && hashAlgorithm !== 'sha256') {
    throw new DerError(`CertID hash algorithm ${dotted} is not supported; use SHA-1 or SHA-256`);
  }
  const issuerNameHash = contentOf(expectTag(nameHash, TAG.OCTET_STRING, 'issuerNameHash'));
  const issuerKeyHash = contentOf(expectTag(keyHash, TAG.OCTET_STRING, 'issuerKeyHash'));
  if (issuerNameHash.length !== DIGEST_LENGTH[hashAlgorithm] || issuerKeyHash.length !== DIGEST_LENGTH[hashAlgorithm]) {
    throw new DerError(`CertID hashes must be ${DIGEST_LENGTH[hashAlgorithm]} bytes for ${hashAlgorithm}`);
  }
  const serialContent = readUnsignedIntegerContent(serial, 'CertID serialNumber');
  return {
    hashAlgorithm,
    issuerNameHash: Uint8Array.from(issuerNameHash),
    issuerKeyHash: Uint8Array.from(issuerKeyHash),
    serialNumberHex: serialHexFromIntegerContent(serialContent),
  };
}

function readNonce(extensions: DerElement): Uint8Array | undefined {
  const [list] = children(extensions);
  let nonce: Uint8Array | undefined;
  for (const extension of children(expectTag(list, TAG.SEQUENCE, 'requestExtensions'))) {
    const parts = children(expectTag(extension, TAG.SEQUENCE, 'Extension'));
    if (readOid(parts[0]) !== OID.ocspNonce) continue;
    const value = contentOf(expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'nonce extnValue'));
    if (value.length === 0 || value.length > MAX_NONCE_BYTES) {
      throw new DerError(`the nonce must be 1 to ${MAX_NONCE_BYTES} bytes`);
    }
    nonce = Uint8Array.from(value);
  }
  return nonce;
}

/**
 * Parses a DER OCSPRequest (RFC 6960 §4.1.1) with the DER walker: this runs for every request,
 * so no schema matching. Signed requests are accepted and their signature ignored (RFC 5019 §2.1.2
 * lets responders do so). Malformed input throws MeshError `invalid_argument`; the HTTP layer
 * answers it with `ocspErrorResponse('malformedRequest')`.
 */
export function parseOcspRequest(der: Uint8Array): OcspRequest {
  if (der.length > MAX_OCSP_REQUEST_BYTES) {
    throw invalidArgument(`the OCSP request is larger than ${MAX_OCSP_REQUEST_BYTES} bytes`);
  }
  try {
    const request = readSingle(der, TAG.SEQUENCE);
    const [tbsRequest] = children(request);
    const fields = children(expectTag(tbsRequest, TAG.SEQUENCE, 'tbsRequest'));
    let i = 0;
    if (fields[i]?.tag === 0xa0) {
      const version = readSmallInteger(children(fields[i])[0], 'version');
      if (version !== 0) throw new DerError(`OCSP request version ${version + 1} is not supported`);
      i++;
    }
    if (fields[i]?.tag === 0xa1) i++; // requestorName
    const list = children(expectTag(fields[i++], TAG.SEQUENCE, 'requestList'));
    if (list.length === 0) throw new DerError('the request names no certificate');
    if (list.length > MAX_CERT_IDS) throw new DerError(`at most ${MAX_CERT_IDS} certificates per request`);
    const certIds = list.map((entry) => readCertId(children(expectTag(entry, TAG.SEQUENCE, 'Request'))[0]));
    let nonce: Uint8Array | undefined;
    if (fields[i]?.tag === 0xa2) nonce = readNonce(fields[i++]);
    if (i !== fields.length) throw new DerError('unexpected fields after requestExtensions');
    return nonce ? { certIds, nonce } : { certIds };
  } catch (cause) {
    // Any failure to walk the input is the input's fault: DerError says where, anything else is garbage.
    const detail = cause instanceof DerError ? cause.message : 'not DER';
    throw invalidArgument(`malformed OCSP request: ${detail}`, { cause });
  }
}
