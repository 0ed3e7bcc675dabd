import { randomBytes } from 'node:crypto';
import { invalidArgument } from '@c2pa-mesh/errors';
import type { KeySigner } from '@c2pa-mesh/key-custody';
import { DIGEST_LENGTH, cmsDigestAlgorithm, digest, digestAlgorithmIdentifier, signatureAlgorithmIdentifier } from './algorithms.js';
import { readCertificateFields } from './certificate-fields.js';
import {
  EMPTY,
  NULL,
  TAG,
  children,
  explicit,
  generalizedTime,
  implicitPrimitive,
  integer,
  namedBitString,
  octetString,
  oid,
  readOid,
  readSingle,
  sequence,
  serialHexFromIntegerContent,
  set,
  setOf,
  tlv,
  unsignedIntegerContent,
  utcTime,
  utf8String,
} from './der.js';
import { OID } from './oids.js';
import {
  TIME_STAMP_FAILURE_BITS,
  parseTimeStampRequest,
  type TimeStampFailure,
  type TimeStampHashAlgorithm,
} from './time-stamp-request.js';

export interface CreateTimeStampAuthorityOptions {
  /** The TSA certificate: EKU timeStamping only, critical (RFC 3161 §2.3). */
  tsaCertificateDer: Uint8Array;
  /** Intermediates to include beside the TSA certificate when the request asks for certificates. */
  chainDer: Uint8Array[];
  signer: KeySigner;
  /** The TSA policy every token is issued under. */
  policyOid: string;
  /** Accuracy stated in TSTInfo; default 1000 ms; 0 leaves it out. */
  accuracyMillis?: number;
  clock?: () => Date;
}

export interface TimeStampOptions {
  hashAlgorithm: TimeStampHashAlgorithm;
  messageImprint: Uint8Array;
  /** Unsigned big-endian magnitude. */
  nonce?: Uint8Array;
  /** Include the TSA certificate and chain in the token. Default true (c2pa-rs needs them). */
  certReq?: boolean;
}

export interface TimeStampToken {
  /** DER ContentInfo with SignedData: the TimeStampToken. */
  token: Uint8Array;
  /**
   * DER TimeStampResp, status granted, carrying `token`: what a C2PA signature's sigTst2 holds
   * (c2pa-rs writes the whole response there).
   */
  response: Uint8Array;
  genTime: Date;
  serialNumberHex: string;
}

export interface TimeStampResponse {
  /** DER TimeStampResp. */
  response: Uint8Array;
  status: 'granted' | 'rejection';
  genTime?: Date;
  serialNumberHex?: string;
  failInfo?: TimeStampFailure;
  statusText?: string;
  /** Set on a rejection of bytes that are not a DER TimeStampReq at all. */
  malformed?: boolean;
}

export interface TimeStampAuthority {
  readonly policyOid: string;
  /** The full RFC 3161 exchange: DER TimeStampReq in, DER TimeStampResp out (granted or rejection). */
  respond(requestDer: Uint8Array): Promise<TimeStampResponse>;
  /** A token (and the granted response carrying it) for an imprint computed by the caller. */
  timestamp(options: TimeStampOptions): Promise<TimeStampToken>;
}

/** A TimeStampResp with status rejection (2), the reason in words and the failInfo bit. */
export function timeStampRejectionResponse(failInfo: TimeStampFailure, statusText: string): Uint8Array {
  const bit = TIME_STAMP_FAILURE_BITS[failInfo];
  if (bit === undefined) throw invalidArgument(`"${failInfo}" is not a PKIFailureInfo name`);
  return sequence(sequence(integer(2), sequence(utf8String(statusText)), namedBitString([bit])));
}

const GRANTED = sequence(integer(0));

function accuracyOf(millis: number): Uint8Array {
  if (!Number.isInteger(millis) || millis < 0) throw invalidArgument('accuracyMillis must be a non-negative integer');
  if (millis === 0) return EMPTY;
  const seconds = Math.floor(millis / 1000);
  const rest = millis % 1000;
  // Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] IMPLICIT INTEGER (1..999) OPTIONAL, ... }
  return sequence(
    seconds > 0 ? integer(seconds) : EMPTY,
    rest > 0 ? implicitPrimitive(0, unsignedIntegerContent(Uint8Array.of(rest >> 8, rest & 0xff))) : EMPTY,
  );
}

function checkTsaCertificate(fields: ReturnType<typeof readCertificateFields>): void {
  const eku = fields.extensions.find((e) => e.oid === OID.extKeyUsage);
  const purposes = eku ? children(readSingle(eku.value, TAG.SEQUENCE)).map(readOid) : [];
  if (!eku || !eku.critical || purposes.length !== 1 || purposes[0] !== OID.timeStamping) {
    throw invalidArgument('the TSA certificate must carry exactly one extended key usage, timeStamping, marked critical (RFC 3161 §2.3)');
  }
}

function randomSerial(): Uint8Array {
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  if (serial[0] === 0) serial[0] = 0x01;
  return unsignedIntegerContent(serial);
}

/**
 * An RFC 3161 / RFC 5816 time-stamp authority. Every constant part of a token (algorithm
 * identifiers, signer identifier, the ESS signing-certificate-v2 attribute, the certificate set)
 * is encoded once; a token encodes only TSTInfo and the signed attributes, then signs.
 */
export function createTimeStampAuthority(options: CreateTimeStampAuthorityOptions): TimeStampAuthority {
  const tsa = readCertificateFields(options.tsaCertificateDer);
  checkTsaCertificate(tsa);
  const chain = options.chainDer.map((der) => readCertificateFields(der).der);
  const { signer } = options;
  if (signer.algorithm !== 'ES256' && signer.algorithm !== 'ES384') {
    // RSASSA-PSS and Ed25519 are valid in CMS, but RFC 3161 clients (openssl ts, which checks
    // tokens through its PKCS#7 code) cannot verify them: a token nobody can check is no token.
    throw invalidArgument(`the TSA key must be ES256 or ES384 (ECDSA); ${signer.algorithm} time-stamp tokens are not verifiable by common RFC 3161 clients`);
  }
  if (!Buffer.from(signer.publicKeySpki).equals(Buffer.from(tsa.subjectPublicKeySpki))) {
    throw invalidArgument('the TSA signer\'s key does not match the TSA certificate');
  }
  let policy: Uint8Array;
  try {
    policy = oid(options.policyOid);
  } catch (cause) {
    throw invalidArgument(`TSA policy "${options.policyOid}" is not an object identifier`, { cause });
  }
  const clock = options.clock ?? (() => new Date());
  const accuracy = accuracyOf(options.accuracyMillis ?? 1000);

  const digestAlgorithm = cmsDigestAlgorithm(signer.algorithm);
  const digestAlgorithmId = digestAlgorithmIdentifier(digestAlgorithm);
  const signatureAlgorithmId = signatureAlgorithmIdentifier(signer.algorithm);
  const version1 = integer(1);
  const tstInfoType = oid(OID.tstInfo);
  const imprintAlgorithm: Record<TimeStampHashAlgorithm, Uint8Array> = {
    sha256: sequence(oid(OID.sha256), NULL),
    sha384: sequence(oid(OID.sha384), NULL),
    sha512: sequence(oid(OID.sha512), NULL),
  };
  // SignerIdentifier: issuerAndSerialNumber of the TSA certificate, exactly as encoded there.
  const signerId = sequence(tsa.issuerName, tlv(TAG.INTEGER, tsa.serialContent));
  const contentTypeAttribute = sequence(oid(OID.contentType), set(tstInfoType));
  // ESS signing-certificate-v2 (RFC 5035 §3), written by hand: no ASN.1 package here defines it.
  // ESSCertIDv2 { hashAlgorithm DEFAULT sha256 (so left out in DER), certHash, issuerSerial }.
  const signingCertificateAttribute = sequence(
    oid(OID.signingCertificateV2),
    set(
      sequence(
        sequence(
          sequence(
            octetString(digest('sha256', tsa.der)),
            sequence(sequence(explicit(4, tsa.issuerName)), tlv(TAG.INTEGER, tsa.serialContent)),
          ),
        ),
      ),
    ),
  );
  const certificates = setOf([tsa.der, ...chain], 0xa0); // [0] IMPLICIT CertificateSet
  const signedDataHeader = integer(3); // CMSVersion 3: eContentType is not id-data
  const digestAlgorithms = set(digestAlgorithmId);
  const signedDataType = oid(OID.signedData);
  const signingTimeType = oid(OID.signingTime);
  const messageDigestType = oid(OID.messageDigest);

  async function issueToken(
    imprintDer: Uint8Array,
    nonce: Uint8Array | undefined,
    certReq: boolean,
  ): Promise<TimeStampToken> {
    const genTime = clock();
    const serial = randomSerial();
    const tstInfo = sequence(
      version1,
      policy,
      imprintDer,
      tlv(TAG.INTEGER, serial),
      generalizedTime(genTime, { millis: true }),
      accuracy,
      nonce ? integer(nonce) : EMPTY,
    );
    const signedAttributes = [
      contentTypeAttribute,
      sequence(signingTimeType, set(utcTime(genTime))),
      sequence(messageDigestType, set(octetString(digest(digestAlgorithm, tstInfo)))),
      signingCertificateAttribute,
    ];
    // The signature covers the attributes as a DER SET OF (sorted), re-tagged [0] in SignerInfo.
    const signature = await signer.sign(setOf(signedAttributes), { ecdsaEncoding: 'der' });
    const signerInfo = sequence(
      integer(1),
      signerId,
      digestAlgorithmId,
      setOf(signedAttributes, 0xa0),
      signatureAlgorithmId,
      octetString(signature),
    );
    const signedData = sequence(
      signedDataHeader,
      digestAlgorithms,
      sequence(tstInfoType, explicit(0, octetString(tstInfo))),
      certReq ? certificates : EMPTY,
      set(signerInfo),
    );
    const token = sequence(signedDataType, explicit(0, signedData));
    return {
      token,
      response: sequence(GRANTED, token),
      genTime,
      serialNumberHex: serialHexFromIntegerContent(serial),
    };
  }

  async function timestamp(o: TimeStampOptions): Promise<TimeStampToken> {
    const algorithm = imprintAlgorithm[o.hashAlgorithm];
    if (!algorithm) throw invalidArgument(`hash algorithm "${o.hashAlgorithm}" is not accepted; use sha256, sha384 or sha512`);
    if (o.messageImprint?.length !== DIGEST_LENGTH[o.hashAlgorithm]) {
      throw invalidArgument(`a ${o.hashAlgorithm} message imprint is ${DIGEST_LENGTH[o.hashAlgorithm]} bytes`);
    }
    if (o.nonce && o.nonce.length > 32) throw invalidArgument('the nonce must be at most 32 bytes');
    return issueToken(sequence(algorithm, octetString(o.messageImprint)), o.nonce, o.certReq ?? true);
  }

  async function respond(requestDer: Uint8Array): Promise<TimeStampResponse> {
    const request = parseTimeStampRequest(requestDer, { policyOid: options.policyOid });
    if (request.kind === 'rejection') {
      return {
        response: timeStampRejectionResponse(request.failInfo, request.statusText),
        status: 'rejection',
        failInfo: request.failInfo,
        statusText: request.statusText,
        ...(request.malformed ? { malformed: true } : {}),
      };
    }
    const issued = await issueToken(request.messageImprintDer, request.nonce, request.certReq);
    return {
      response: issued.response,
      status: 'granted',
      genTime: issued.genTime,
      serialNumberHex: issued.serialNumberHex,
    };
  }

  return { policyOid: options.policyOid, respond, timestamp };
}
