import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { MeshError } from '@c2pa-mesh/errors';

/**
 * The RFC 3161 exchange with the mesh TSA (CertificateAuthorityService.Timestamp): a TimeStampReq
 * for the SHA-256 of some bytes, with a fresh nonce and certReq (c2pa-rs needs the TSA's
 * certificates in the token), and the checks a client owes the response (§2.4.2): granted, a
 * token whose imprint and nonce are those asked for.
 */

const SHA256_OID = '2.16.840.1.101.3.4.2.1';
const TST_INFO_OID = '1.2.840.113549.1.9.16.1.4';
const PKI_STATUS_TEXT = ['granted', 'grantedWithMods', 'rejection', 'waiting', 'revocationWarning', 'revocationNotification'];

export interface TimeStampQuery {
  /** DER TimeStampReq. */
  der: Uint8Array;
  /** SHA-256 of the time-stamped bytes. */
  imprint: Uint8Array;
  /** Unsigned big-endian nonce as sent. */
  nonce: Uint8Array;
}

export interface ReceivedTimeStamp {
  /** DER TimeStampToken (ContentInfo with SignedData), byte for byte as the TSA sent it. */
  token: Uint8Array;
  genTime: Date;
}

/** A TimeStampReq over SHA-256(`data`). */
export function buildTimeStampQuery(data: Uint8Array): TimeStampQuery {
  const imprint = new Uint8Array(createHash('sha256').update(data).digest());
  const nonce = randomBytes(16);
  // A positive INTEGER: a leading 1 bit would make it negative in DER.
  nonce[0] = (nonce[0] & 0x7f) | 0x01;
  const request = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA256_OID, algorithmParams: new asn1js.Null() }),
      hashedMessage: new asn1js.OctetString({ valueHex: imprint }),
    }),
    nonce: new asn1js.Integer({ valueHex: nonce }),
    certReq: true,
  });
  return { der: new Uint8Array(request.toSchema().toBER()), imprint, nonce: new Uint8Array(nonce) };
}

const tsaFailure = (message: string, cause?: unknown) =>
  new MeshError('unavailable', `the time-stamp authority's answer could not be used: ${message}`, cause === undefined ? {} : { cause });

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && timingSafeEqual(a, b);

/** Strips the sign octet DER puts in front of an integer whose top bit is set. */
function magnitude(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

/**
 * Reads a DER TimeStampResp: the token (its original bytes, so its signature stays intact) and
 * genTime, after checking status, imprint and nonce against the query.
 */
export function readTimeStampResponse(responseDer: Uint8Array, query: TimeStampQuery): ReceivedTimeStamp {
  const parsed = asn1js.fromBER(responseDer);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) throw tsaFailure('not a DER TimeStampResp');
  let response: pkijs.TimeStampResp;
  try {
    response = new pkijs.TimeStampResp({ schema: parsed.result });
  } catch (error) {
    throw tsaFailure('not a TimeStampResp', error);
  }
  const status = response.status.status;
  if ((status !== 0 && status !== 1) || response.timeStampToken === undefined) {
    const text = response.status.statusStrings?.map((s) => s.valueBlock.value).join('; ');
    throw tsaFailure(`the request was not granted (${PKI_STATUS_TEXT[status] ?? `status ${status}`}${text ? `: ${text}` : ''})`);
  }
  // The token is the second element of the response SEQUENCE: keep its bytes as received.
  const tokenElement = (parsed.result as asn1js.Sequence).valueBlock.value[1];
  const token = new Uint8Array(tokenElement.valueBeforeDecodeView);

  let info: pkijs.TSTInfo;
  try {
    const signedData = new pkijs.SignedData({ schema: response.timeStampToken.content });
    if (signedData.encapContentInfo.eContentType !== TST_INFO_OID || signedData.encapContentInfo.eContent === undefined) {
      throw new Error('the token does not carry a TSTInfo');
    }
    const content = signedData.encapContentInfo.eContent.getValue();
    info = new pkijs.TSTInfo({ schema: asn1js.fromBER(content).result });
  } catch (error) {
    throw tsaFailure('the token cannot be read', error);
  }
  if (info.messageImprint.hashAlgorithm.algorithmId !== SHA256_OID) throw tsaFailure('the token is not over SHA-256');
  if (!sameBytes(new Uint8Array(info.messageImprint.hashedMessage.valueBlock.valueHexView), query.imprint)) {
    throw tsaFailure('the token covers other data than was sent');
  }
  const nonce = info.nonce === undefined ? undefined : magnitude(new Uint8Array(info.nonce.valueBlock.valueHexView));
  if (nonce === undefined || !sameBytes(nonce, magnitude(query.nonce))) throw tsaFailure('the token does not carry the nonce sent');
  return { token, genTime: info.genTime };
}
