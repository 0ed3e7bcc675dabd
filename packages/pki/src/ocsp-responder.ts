import { timingSafeEqual } from 'node:crypto';
import { invalidArgument } from '@c2pa-mesh/errors';
import type { KeySigner } from '@c2pa-mesh/key-custody';
import { digest, digestAlgorithmIdentifier, signatureAlgorithmIdentifier, verifySignature } from './algorithms.js';
import { keyIdentifier, readCertificateFields, type CertificateFields } from './certificate-fields.js';
import {
  EMPTY,
  TAG,
  bitString,
  children,
  enumerated,
  explicit,
  generalizedTime,
  implicitConstructed,
  implicitPrimitive,
  octetString,
  oid,
  readOid,
  readSingle,
  sequence,
  serialMagnitudeFromHex,
  integer,
} from './der.js';
import { CRL_REASON_NAMES } from './crl-reasons.js';
import { OID } from './oids.js';
import type { OcspCertId } from './ocsp-request.js';

export type OcspCertStatus =
  | { status: 'good' }
  | { status: 'revoked'; revokedAt: Date; reason?: number }
  | { status: 'unknown' };

export interface OcspSingleResponse {
  certId: OcspCertId;
  status: OcspCertStatus;
}

export interface BuildOcspResponseOptions {
  responses: OcspSingleResponse[];
  /** The request's nonce (extnValue contents), echoed unchanged. */
  nonce?: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date;
  /** Default: now. */
  producedAt?: Date;
}

export interface OcspResponder {
  readonly responderCertificateDer: Uint8Array;
  readonly issuerCertificateDer: Uint8Array;
  /** Matches a CertID against this responder's issuer (SHA-1 and SHA-256 CertIDs). */
  isForIssuer(id: OcspCertId): boolean;
  /** A signed DER OCSPResponse: basic, responderID byKey, carrying the responder certificate. */
  buildResponse(options: BuildOcspResponseOptions): Promise<Uint8Array>;
}

export interface CreateOcspResponderOptions {
  /** The responder's certificate: a delegated OCSP_RESPONDER certificate, or the issuer itself. */
  responderCertificateDer: Uint8Array;
  signer: KeySigner;
  /** The CA whose certificates this responder answers for. */
  issuerCertificateDer: Uint8Array;
  /**
   * Put the issuer certificate into responses beside a delegated responder's, so that verifiers
   * holding only the root (c2pa-rs, `openssl ocsp -CAfile root`) can build the responder's chain.
   * Default true.
   */
  includeIssuerCertificate?: boolean;
}

export type OcspResponseStatus = 'malformedRequest' | 'internalError' | 'tryLater' | 'sigRequired' | 'unauthorized';

const RESPONSE_STATUS: Record<OcspResponseStatus | 'successful', number> = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
};

/** An unsuccessful OCSPResponse: `SEQUENCE { ENUMERATED status }`, no responseBytes. */
export function ocspErrorResponse(status: OcspResponseStatus): Uint8Array {
  const code = RESPONSE_STATUS[status];
  if (code === undefined || status === ('successful' as string)) throw invalidArgument(`"${status}" is not an OCSP error status`);
  return Uint8Array.of(0x30, 0x03, 0x0a, 0x01, code);
}

/** RFC 5280 CRLReason values; 7 is unused. */
export function checkRevocationReason(reason: number | undefined): void {
  if (reason === undefined) return;
  if (!Number.isInteger(reason) || CRL_REASON_NAMES[reason] === undefined) {
    throw invalidArgument(`revocation reason ${reason} is not an RFC 5280 CRLReason (0-6, 8-10)`);
  }
}

interface IssuerHashes {
  algorithmIdentifier: Uint8Array;
  nameHash: Uint8Array;
  keyHash: Uint8Array;
}

function issuerHashes(issuer: CertificateFields): Record<OcspCertId['hashAlgorithm'], IssuerHashes> {
  return {
    sha1: {
      algorithmIdentifier: digestAlgorithmIdentifier('sha1', { nullParameters: true }),
      nameHash: digest('sha1', issuer.subjectName),
      keyHash: digest('sha1', issuer.subjectPublicKeyBits),
    },
    sha256: {
      algorithmIdentifier: digestAlgorithmIdentifier('sha256', { nullParameters: true }),
      nameHash: digest('sha256', issuer.subjectName),
      keyHash: digest('sha256', issuer.subjectPublicKeyBits),
    },
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The CertID naming `certificateDer` as issued by `issuerCertificateDer` (for stapling and tests). */
export function ocspCertIdFor(
  certificateDer: Uint8Array,
  issuerCertificateDer: Uint8Array,
  hashAlgorithm: OcspCertId['hashAlgorithm'] = 'sha1',
): OcspCertId {
  const certificate = readCertificateFields(certificateDer);
  const issuer = readCertificateFields(issuerCertificateDer);
  return {
    hashAlgorithm,
    issuerNameHash: digest(hashAlgorithm, issuer.subjectName),
    issuerKeyHash: digest(hashAlgorithm, issuer.subjectPublicKeyBits),
    serialNumberHex: certificate.serialNumberHex,
  };
}

function encodeCertId(id: OcspCertId, hashes: Record<OcspCertId['hashAlgorithm'], IssuerHashes>): Uint8Array {
  return sequence(
    hashes[id.hashAlgorithm].algorithmIdentifier,
    octetString(id.issuerNameHash),
    octetString(id.issuerKeyHash),
    integer(serialMagnitudeFromHex(id.serialNumberHex)),
  );
}

/** A DER OCSPRequest for `certIds`, optionally with a nonce (for clients, stapling and tests). */
export function encodeOcspRequest(certIds: OcspCertId[], nonce?: Uint8Array): Uint8Array {
  const algorithm = {
    sha1: digestAlgorithmIdentifier('sha1', { nullParameters: true }),
    sha256: digestAlgorithmIdentifier('sha256', { nullParameters: true }),
  };
  const requests = certIds.map((id) =>
    sequence(
      sequence(
        algorithm[id.hashAlgorithm],
        octetString(id.issuerNameHash),
        octetString(id.issuerKeyHash),
        integer(serialMagnitudeFromHex(id.serialNumberHex)),
      ),
    ),
  );
  const extensions = nonce ? explicit(2, sequence(sequence(oid(OID.ocspNonce), octetString(nonce)))) : EMPTY;
  return sequence(sequence(sequence(...requests), extensions));
}

const GOOD = implicitPrimitive(0, EMPTY);
const UNKNOWN = implicitPrimitive(2, EMPTY);

function encodeCertStatus(status: OcspCertStatus): Uint8Array {
  switch (status.status) {
    case 'good':
      return GOOD;
    case 'unknown':
      return UNKNOWN;
    case 'revoked': {
      if (!(status.revokedAt instanceof Date) || Number.isNaN(status.revokedAt.getTime())) {
        throw invalidArgument('a revoked status needs its revocation time');
      }
      checkRevocationReason(status.reason);
      // RevokedInfo ::= SEQUENCE { revocationTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }.
      // reason 0 (unspecified) is left out, as RFC 5280 §5.3.1 asks of CRLs.
      const reason = status.reason ? explicit(0, enumerated(status.reason)) : EMPTY;
      return implicitConstructed(1, generalizedTime(status.revokedAt), reason);
    }
    default:
      throw invalidArgument(`unknown certificate status "${(status as { status: string }).status}"`);
  }
}

/**
 * An OCSP responder for one issuer. Everything that does not change between responses (responder
 * ID, algorithm identifiers, certificates, issuer hashes) is encoded once here; a response encodes
 * only its tbsResponseData and signs it.
 */
export function createOcspResponder(options: CreateOcspResponderOptions): OcspResponder {
  const responder = readCertificateFields(options.responderCertificateDer);
  const issuer = readCertificateFields(options.issuerCertificateDer);
  const { signer } = options;
  const delegated = !sameBytes(responder.der, issuer.der);

  if (!sameBytes(Uint8Array.from(signer.publicKeySpki), Uint8Array.from(responder.subjectPublicKeySpki))) {
    throw invalidArgument('the OCSP signer\'s key does not match the responder certificate');
  }
  if (delegated) {
    // RFC 6960 §4.2.2.2: a delegated responder is issued directly by the CA and carries id-kp-OCSPSigning.
    if (!sameBytes(responder.issuerName, issuer.subjectName) || !verifySignature(issuer.subjectPublicKeySpki, responder.signatureAlgorithm, responder.tbs, responder.signatureValue)) {
      throw invalidArgument('the OCSP responder certificate was not issued by the issuer certificate given');
    }
    const eku = responder.extensions.find((e) => e.oid === OID.extKeyUsage);
    if (!eku || !children(readSingle(eku.value, TAG.SEQUENCE)).map(readOid).includes(OID.ocspSigning)) {
      throw invalidArgument('the OCSP responder certificate lacks the OCSPSigning extended key usage');
    }
  }

  const hashes = issuerHashes(issuer);
  const responderId = explicit(2, octetString(keyIdentifier(responder.subjectPublicKeyBits))); // byKey
  const signatureAlgorithm = signatureAlgorithmIdentifier(signer.algorithm);
  const includeIssuer = delegated && (options.includeIssuerCertificate ?? true);
  const certs = explicit(0, sequence(responder.der, ...(includeIssuer ? [issuer.der] : [])));
  const responseType = oid(OID.ocspBasic);
  const successful = enumerated(RESPONSE_STATUS.successful);
  const nonceOid = oid(OID.ocspNonce);

  function isForIssuer(id: OcspCertId): boolean {
    const expected = hashes[id.hashAlgorithm];
    return (
      expected !== undefined &&
      sameBytes(id.issuerNameHash, expected.nameHash) &&
      sameBytes(id.issuerKeyHash, expected.keyHash)
    );
  }

  async function buildResponse(o: BuildOcspResponseOptions): Promise<Uint8Array> {
    if (!o.responses?.length) throw invalidArgument('an OCSP response needs at least one certificate status');
    if (!(o.nextUpdate > o.thisUpdate)) throw invalidArgument('nextUpdate must be later than thisUpdate');
    const singles = o.responses.map(({ certId, status }) => {
      if (!isForIssuer(certId)) {
        throw invalidArgument(`certificate ${certId.serialNumberHex} is not from this responder's issuer; answer "unauthorized"`);
      }
      return sequence(
        encodeCertId(certId, hashes),
        encodeCertStatus(status),
        generalizedTime(o.thisUpdate),
        explicit(0, generalizedTime(o.nextUpdate)),
      );
    });
    const extensions = o.nonce ? explicit(1, sequence(sequence(nonceOid, octetString(o.nonce)))) : EMPTY;
    const responseData = sequence(
      responderId,
      generalizedTime(o.producedAt ?? new Date()),
      sequence(...singles),
      extensions,
    );
    const signature = await signer.sign(responseData, { ecdsaEncoding: 'der' });
    const basic = sequence(responseData, signatureAlgorithm, bitString(signature), certs);
    return sequence(successful, explicit(0, sequence(responseType, octetString(basic))));
  }

  return {
    responderCertificateDer: responder.der,
    issuerCertificateDer: issuer.der,
    isForIssuer,
    buildResponse,
  };
}
