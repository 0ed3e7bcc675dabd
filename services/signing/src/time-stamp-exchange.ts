import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { MeshError } from '@c2pa-mesh/errors';
import { OID, der } from '@c2pa-mesh/pki';

/**
 * The RFC 3161 exchange with the mesh TSA (CertificateAuthorityService.Timestamp): a TimeStampReq
 * for the SHA-256 of some bytes, with a fresh nonce and certReq (c2pa-rs needs the TSA's
 * certificates in the token), and the checks a client owes the response (§2.4.2): granted, a
 * token whose imprint and nonce are those asked for. Read with the pki package's DER walker, not
 * pkijs: it runs on every signature, and schema-driven parsing of the token (with its
 * certificates) costs several milliseconds.
 */

const PKI_STATUS_TEXT = ['granted', 'grantedWithMods', 'rejection', 'waiting', 'revocationWarning', 'revocationNotification'];
/** id-ct-TSTInfo (RFC 3161 §2.4.2). */
const TST_INFO = '1.2.840.113549.1.9.16.1.4';

export interface TimeStampQuery {
  /** DER TimeStampReq. */
  der: Uint8Array;
  /** SHA-256 of the time-stamped bytes. */
  imprint: Uint8Array;
  /** The nonce as sent: unsigned big-endian magnitude. */
  nonce: Uint8Array;
}

export interface ReceivedTimeStamp {
  /** DER TimeStampToken (ContentInfo with SignedData), byte for byte as the TSA sent it. */
  token: Uint8Array;
  genTime: Date;
}

/** A TimeStampReq over SHA-256(`data`): version 1, imprint, nonce, certReq TRUE. */
export function buildTimeStampQuery(data: Uint8Array): TimeStampQuery {
  const imprint = new Uint8Array(createHash('sha256').update(data).digest());
  const nonce = new Uint8Array(randomBytes(16));
  nonce[0] |= 0x01; // no leading zero byte: the magnitude compares as sent
  const request = der.sequence(
    der.integer(1),
    der.sequence(der.sequence(der.oid(OID.sha256), der.NULL), der.octetString(imprint)),
    der.integer(nonce),
    der.boolean(true),
  );
  return { der: request, imprint, nonce };
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

/** TSTInfo → messageImprint, genTime, nonce (the fields a client checks). */
function readTstInfo(tstInfo: Uint8Array) {
  const fields = der.children(der.readSingle(tstInfo, der.TAG.SEQUENCE));
  // version, policy, messageImprint, serialNumber, genTime, accuracy?, ordering?, nonce?, tsa?, extensions?
  const [imprint, , genTime, ...optional] = fields.slice(2);
  const [hashAlgorithm, hashedMessage] = der.children(der.expectTag(imprint, der.TAG.SEQUENCE, 'messageImprint'));
  const algorithm = der.readOid(der.children(der.expectTag(hashAlgorithm, der.TAG.SEQUENCE, 'hashAlgorithm'))[0]);
  const nonce = optional.find((field) => field.tag === der.TAG.INTEGER);
  return {
    algorithm,
    imprint: der.contentOf(der.expectTag(hashedMessage, der.TAG.OCTET_STRING, 'hashedMessage')),
    genTime: der.readTime(der.expectTag(genTime, der.TAG.GENERALIZED_TIME, 'genTime')),
    nonce: nonce === undefined ? undefined : der.contentOf(nonce),
  };
}

/**
 * Reads a DER TimeStampResp: the token (its original bytes, so its signature stays intact) and
 * genTime, after checking status, imprint and nonce against the query. The token's signature and
 * certificates are the relying party's to check (c2pa-rs does, on every read).
 */
export function readTimeStampResponse(responseDer: Uint8Array, query: TimeStampQuery): ReceivedTimeStamp {
  let token: Uint8Array;
  let info: ReturnType<typeof readTstInfo>;
  try {
    const [statusInfo, tokenElement] = der.children(der.readSingle(responseDer, der.TAG.SEQUENCE));
    const [status, statusStrings] = der.children(der.expectTag(statusInfo, der.TAG.SEQUENCE, 'PKIStatusInfo'));
    const code = der.readSmallInteger(status, 'PKIStatus');
    if ((code !== 0 && code !== 1) || tokenElement === undefined) {
      const text =
        statusStrings?.tag === der.TAG.SEQUENCE ? der.children(statusStrings).map((s) => new TextDecoder().decode(der.contentOf(s))).join('; ') : '';
      throw tsaFailure(`the request was not granted (${PKI_STATUS_TEXT[code] ?? `status ${code}`}${text ? `: ${text}` : ''})`);
    }
    token = new Uint8Array(der.encodingOf(der.expectTag(tokenElement, der.TAG.SEQUENCE, 'TimeStampToken')));
    // ContentInfo { contentType, [0] SignedData { version, digestAlgorithms, encapContentInfo, ... } }
    const [, signedDataWrapper] = der.children(tokenElement);
    const [signedData] = der.children(der.expectTag(signedDataWrapper, 0xa0, 'ContentInfo content'));
    const encapContentInfo = der.children(der.expectTag(signedData, der.TAG.SEQUENCE, 'SignedData'))[2];
    const [contentType, eContent] = der.children(der.expectTag(encapContentInfo, der.TAG.SEQUENCE, 'encapContentInfo'));
    if (der.readOid(contentType) !== TST_INFO) throw tsaFailure('the token does not carry a TSTInfo');
    const [octets] = der.children(der.expectTag(eContent, 0xa0, 'eContent'));
    info = readTstInfo(der.contentOf(der.expectTag(octets, der.TAG.OCTET_STRING, 'eContent')));
  } catch (error) {
    if (error instanceof MeshError) throw error;
    throw tsaFailure(`not a DER TimeStampResp with a token (${(error as Error).message})`, error);
  }
  if (info.algorithm !== OID.sha256) throw tsaFailure('the token is not over SHA-256');
  if (!sameBytes(info.imprint, query.imprint)) throw tsaFailure('the token covers other data than was sent');
  if (info.nonce === undefined || !sameBytes(magnitude(info.nonce), magnitude(query.nonce))) throw tsaFailure('the token does not carry the nonce sent');
  return { token, genTime: info.genTime };
}
