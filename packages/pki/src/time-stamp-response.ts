import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  DerError,
  TAG,
  boolean,
  children,
  contentOf,
  encodingOf,
  expectTag,
  integer,
  octetString,
  oid,
  readOid,
  readSingle,
  readSmallInteger,
  readTime,
  sequence,
  NULL,
  type DerElement,
} from './der.js';
import { OID } from './oids.js';

/**
 * The RFC 3161 client side: a TimeStampReq for the SHA-256 of some bytes, and reading what comes
 * back — the TimeStampResp (status, then the token) a TSA answers with, which is also what C2PA
 * signatures carry in `sigTst2.tstTokens[].val`, or a bare TimeStampToken as older signatures hold
 * it. Read with the DER walker, not pkijs: it runs on every signature, and schema-driven parsing
 * of a token with its certificates costs several milliseconds.
 */

const PKI_STATUS_TEXT = ['granted', 'grantedWithMods', 'rejection', 'waiting', 'revocationWarning', 'revocationNotification'];
/** id-ct-TSTInfo (RFC 3161 §2.4.2). */
const TST_INFO = '1.2.840.113549.1.9.16.1.4';

/** A time-stamp response or token that cannot be used; the message says why, in words. */
export class TimeStampResponseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TimeStampResponseError';
  }
}

export interface TimeStampQuery {
  /** DER TimeStampReq. */
  der: Uint8Array;
  /** SHA-256 of the time-stamped bytes. */
  imprint: Uint8Array;
  /** The nonce as sent: unsigned big-endian magnitude. */
  nonce: Uint8Array;
}

/** The TSTInfo fields a relying party reads. */
export interface TimeStampTokenInfo {
  /** Dotted OID of the message imprint's hash algorithm. */
  hashAlgorithmOid: string;
  messageImprint: Uint8Array;
  genTime: Date;
  /** Unsigned big-endian magnitude, when the token carries one. */
  nonce?: Uint8Array;
}

export interface ReceivedTimeStamp extends TimeStampTokenInfo {
  /**
   * The DER TimeStampResp byte for byte as the TSA sent it: what a C2PA signature carries in
   * sigTst2 (c2pa-rs writes the whole response there, and validators such as c2pa-ts read only
   * that form).
   */
  response: Uint8Array;
  /** The DER TimeStampToken (ContentInfo with SignedData) inside `response`. */
  token: Uint8Array;
}

/** A TimeStampReq over SHA-256(`data`): version 1, imprint, a fresh nonce, certReq TRUE. */
export function buildTimeStampQuery(data: Uint8Array): TimeStampQuery {
  const imprint = new Uint8Array(createHash('sha256').update(data).digest());
  const nonce = new Uint8Array(randomBytes(16));
  nonce[0] |= 0x01; // no leading zero byte: the magnitude compares as sent
  // certReq: c2pa-rs needs the TSA's certificates in the token to check it.
  const request = sequence(integer(1), sequence(sequence(oid(OID.sha256), NULL), octetString(imprint)), integer(nonce), boolean(true));
  return { der: request, imprint, nonce };
}

/** Strips the sign octet DER puts in front of an integer whose top bit is set. */
function magnitude(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && timingSafeEqual(a, b);

/** TSTInfo → hash algorithm, messageImprint, genTime, nonce. */
function readTstInfo(tstInfo: Uint8Array): TimeStampTokenInfo {
  const fields = children(readSingle(tstInfo, TAG.SEQUENCE));
  // version, policy, messageImprint, serialNumber, genTime, accuracy?, ordering?, nonce?, tsa?, extensions?
  const [imprint, , genTime, ...optional] = fields.slice(2);
  const [hashAlgorithm, hashedMessage] = children(expectTag(imprint, TAG.SEQUENCE, 'messageImprint'));
  const nonce = optional.find((field) => field.tag === TAG.INTEGER);
  return {
    hashAlgorithmOid: readOid(children(expectTag(hashAlgorithm, TAG.SEQUENCE, 'hashAlgorithm'))[0]),
    messageImprint: contentOf(expectTag(hashedMessage, TAG.OCTET_STRING, 'hashedMessage')),
    genTime: readTime(expectTag(genTime, TAG.GENERALIZED_TIME, 'genTime')),
    ...(nonce === undefined ? {} : { nonce: magnitude(contentOf(nonce)) }),
  };
}

/** ContentInfo { id-signedData, [0] SignedData { version, digestAlgorithms, encapContentInfo, … } } → TSTInfo. */
function tokenInfo(token: DerElement): TimeStampTokenInfo {
  const [contentType, signedDataWrapper] = children(expectTag(token, TAG.SEQUENCE, 'TimeStampToken'));
  if (readOid(contentType) !== OID.signedData) throw new DerError('the token is not a CMS SignedData');
  const [signedData] = children(expectTag(signedDataWrapper, 0xa0, 'ContentInfo content'));
  const encapContentInfo = children(expectTag(signedData, TAG.SEQUENCE, 'SignedData'))[2];
  const [eContentType, eContent] = children(expectTag(encapContentInfo, TAG.SEQUENCE, 'encapContentInfo'));
  if (readOid(eContentType) !== TST_INFO) throw new DerError('the token does not carry a TSTInfo');
  const [octets] = children(expectTag(eContent, 0xa0, 'eContent'));
  return readTstInfo(contentOf(expectTag(octets, TAG.OCTET_STRING, 'eContent')));
}

/**
 * The token of a TimeStampResp, after checking the status is granted (or grantedWithMods).
 * Throws TimeStampResponseError with the TSA's status and text for anything else.
 */
function grantedToken(response: DerElement): DerElement {
  const [statusInfo, token] = children(expectTag(response, TAG.SEQUENCE, 'TimeStampResp'));
  const [status, statusStrings] = children(expectTag(statusInfo, TAG.SEQUENCE, 'PKIStatusInfo'));
  const code = readSmallInteger(status, 'PKIStatus');
  if ((code !== 0 && code !== 1) || token === undefined) {
    const text = statusStrings?.tag === TAG.SEQUENCE ? children(statusStrings).map((s) => new TextDecoder().decode(contentOf(s))).join('; ') : '';
    throw new TimeStampResponseError(`the request was not granted (${PKI_STATUS_TEXT[code] ?? `status ${code}`}${text ? `: ${text}` : ''})`);
  }
  return expectTag(token, TAG.SEQUENCE, 'TimeStampToken');
}

/**
 * Reads what a C2PA signature's `sigTst2.tstTokens[].val` holds: a TimeStampResp (what c2pa-rs
 * and the mesh write) or a bare TimeStampToken (what the mesh wrote before, and c2pa-rs still
 * reads). A token's ContentInfo starts with an OID; a response's PKIStatusInfo is a SEQUENCE.
 */
export function readTimeStamp(der: Uint8Array): { token: Uint8Array; form: 'response' | 'token' } & TimeStampTokenInfo {
  try {
    const top = readSingle(der, TAG.SEQUENCE);
    const first = children(top)[0];
    const form = first?.tag === TAG.OID ? 'token' : 'response';
    const token = form === 'token' ? top : grantedToken(top);
    return { token: encodingOf(token), form, ...tokenInfo(token) };
  } catch (error) {
    if (error instanceof TimeStampResponseError) throw error;
    throw new TimeStampResponseError(`not a DER TimeStampResp or TimeStampToken (${(error as Error).message})`, { cause: error });
  }
}

/**
 * Reads a DER TimeStampResp answering `query`, and checks what a client owes it (RFC 3161
 * §2.4.2): granted, a token over SHA-256 of the imprint asked for, with the nonce sent. The
 * token's signature and certificates are the relying party's to check (c2pa-rs does, on every
 * read). Throws TimeStampResponseError.
 */
export function readTimeStampResponse(responseDer: Uint8Array, query: TimeStampQuery): ReceivedTimeStamp {
  const read = readTimeStamp(responseDer);
  if (read.form !== 'response') throw new TimeStampResponseError('a bare token came back where a TimeStampResp was expected');
  if (read.hashAlgorithmOid !== OID.sha256) throw new TimeStampResponseError('the token is not over SHA-256');
  if (!sameBytes(read.messageImprint, query.imprint)) throw new TimeStampResponseError('the token covers other data than was sent');
  if (read.nonce === undefined || !sameBytes(read.nonce, magnitude(query.nonce))) throw new TimeStampResponseError('the token does not carry the nonce sent');
  const { form: _form, ...info } = read;
  return { ...info, response: responseDer };
}
