import { DIGEST_LENGTH, digestAlgorithmFromOid } from './algorithms.js';
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
  readSmallInteger,
  readUnsignedIntegerContent,
  type DerElement,
} from './der.js';

/** PKIFailureInfo names (RFC 3161 §2.4.2) with their bit numbers. */
export const TIME_STAMP_FAILURE_BITS = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;

export type TimeStampFailure = keyof typeof TIME_STAMP_FAILURE_BITS;

export type TimeStampHashAlgorithm = 'sha256' | 'sha384' | 'sha512';

export interface TimeStampRequest {
  kind: 'request';
  hashAlgorithm: TimeStampHashAlgorithm;
  messageImprint: Uint8Array;
  /** The request's MessageImprint as encoded: the token repeats it exactly (RFC 3161 §2.4.2). */
  messageImprintDer: Uint8Array;
  policyOid?: string;
  /** The nonce as an unsigned big-endian magnitude. */
  nonce?: Uint8Array;
  certReq: boolean;
}

export interface TimeStampRejection {
  kind: 'rejection';
  failInfo: TimeStampFailure;
  /** Why, in words; sent to the client as the PKIFreeText statusString. */
  statusText: string;
  /** True when the bytes are not a DER TimeStampReq at all (RPC callers get invalid_argument). */
  malformed?: boolean;
}

/** Far above a real request (~60–120 bytes). */
export const MAX_TIME_STAMP_REQUEST_BYTES = 16 * 1024;
/** Nonces are 64-bit in practice (openssl, RFC 3161 §2.4.1 suggests that size); allow up to 256 bits. */
const MAX_NONCE_BYTES = 32;

class Rejection extends Error {
  constructor(readonly failInfo: TimeStampFailure, message: string) {
    super(message);
  }
}

function readMessageImprint(element: DerElement): Pick<TimeStampRequest, 'hashAlgorithm' | 'messageImprint' | 'messageImprintDer'> {
  const [algorithm, hashed] = children(expectTag(element, TAG.SEQUENCE, 'messageImprint'));
  const [algorithmOid, parameters] = children(expectTag(algorithm, TAG.SEQUENCE, 'hashAlgorithm'));
  const dotted = readOid(algorithmOid);
  if (parameters && parameters.tag !== TAG.NULL) throw new DerError('hash algorithm parameters must be absent or NULL');
  const hashAlgorithm = digestAlgorithmFromOid(dotted);
  if (hashAlgorithm === 'sha1') {
    throw new Rejection('badAlg', 'SHA-1 message imprints are not accepted; use SHA-256, SHA-384 or SHA-512');
  }
  if (hashAlgorithm === undefined) {
    throw new Rejection('badAlg', `hash algorithm ${dotted} is not accepted; use SHA-256, SHA-384 or SHA-512`);
  }
  const messageImprint = contentOf(expectTag(hashed, TAG.OCTET_STRING, 'hashedMessage'));
  if (messageImprint.length !== DIGEST_LENGTH[hashAlgorithm]) {
    throw new Rejection(
      'badDataFormat',
      `a ${hashAlgorithm} message imprint is ${DIGEST_LENGTH[hashAlgorithm]} bytes, this one is ${messageImprint.length}`,
    );
  }
  return { hashAlgorithm, messageImprint: Uint8Array.from(messageImprint), messageImprintDer: Uint8Array.from(encodingOf(element)) };
}

/**
 * Parses a DER TimeStampReq (RFC 3161 §2.4.1). Never throws on bad input: it returns the rejection
 * to send. With `policyOid`, a request for another policy is rejected with `unacceptedPolicy`.
 */
export function parseTimeStampRequest(
  der: Uint8Array,
  options: { policyOid?: string } = {},
): TimeStampRequest | TimeStampRejection {
  try {
    if (der.length > MAX_TIME_STAMP_REQUEST_BYTES) {
      throw new Rejection('badDataFormat', `the request is larger than ${MAX_TIME_STAMP_REQUEST_BYTES} bytes`);
    }
    const fields = children(readSingle(der, TAG.SEQUENCE));
    let i = 0;
    const version = readSmallInteger(expectTag(fields[i++], TAG.INTEGER, 'version'), 'version');
    if (version !== 1) throw new Rejection('badRequest', `TimeStampReq version ${version} is not supported; only version 1 exists`);
    const imprint = readMessageImprint(fields[i++]);
    let policyOid: string | undefined;
    if (fields[i]?.tag === TAG.OID) policyOid = readOid(fields[i++]);
    let nonce: Uint8Array | undefined;
    if (fields[i]?.tag === TAG.INTEGER) {
      const content = readUnsignedIntegerContent(fields[i++], 'nonce');
      const magnitude = content[0] === 0 && content.length > 1 ? content.subarray(1) : content;
      if (magnitude.length > MAX_NONCE_BYTES) throw new Rejection('badDataFormat', `the nonce must be at most ${MAX_NONCE_BYTES} bytes`);
      nonce = Uint8Array.from(magnitude);
    }
    let certReq = false;
    if (fields[i]?.tag === TAG.BOOLEAN) certReq = readBoolean(fields[i++], 'certReq');
    if (fields[i]?.tag === 0xa0) {
      throw new Rejection('unacceptedExtension', 'this time-stamp authority accepts no request extensions');
    }
    if (i !== fields.length) throw new DerError('unexpected fields in TimeStampReq');
    if (options.policyOid !== undefined && policyOid !== undefined && policyOid !== options.policyOid) {
      throw new Rejection('unacceptedPolicy', `policy ${policyOid} is not offered; this authority time-stamps under ${options.policyOid}`);
    }
    return { kind: 'request', ...imprint, ...(policyOid ? { policyOid } : {}), ...(nonce ? { nonce } : {}), certReq };
  } catch (error) {
    if (error instanceof Rejection) return { kind: 'rejection', failInfo: error.failInfo, statusText: error.message };
    const detail = error instanceof DerError ? error.message : 'not DER';
    return { kind: 'rejection', failInfo: 'badDataFormat', statusText: `malformed TimeStampReq: ${detail}`, malformed: true };
  }
}
