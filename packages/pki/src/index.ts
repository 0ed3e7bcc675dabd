export {
  CERTIFICATE_PROFILES,
  issueCertificate,
  type CertificateIssuer,
  type CertificateProfile,
  type IssueCertificateOptions,
  type IssuedCertificate,
  type SubjectAltNames,
} from './certificate.js';
export { parseCertificate, type CertificateInfo, type KeyUsageName } from './certificate-info.js';
export { readCertificateSummary, type CertificateSummary } from './certificate-summary.js';
export { parseCertificationRequest, type CertificationRequestInfo } from './certification-request.js';
export { checkSubjectPublicKey } from './key-policy.js';
export type { DistinguishedName, NameInfo } from './names.js';
export { pemBlocks, pemToDer, toPem, type PemBlock, type PemLabel } from './pem.js';
export { MAX_OCSP_REQUEST_BYTES, parseOcspRequest, type OcspCertId, type OcspRequest } from './ocsp-request.js';
export { CRL_REASON_NAMES } from './crl-reasons.js';
export {
  checkRevocationReason,
  createOcspResponder,
  encodeOcspRequest,
  ocspCertIdFor,
  ocspErrorResponse,
  type BuildOcspResponseOptions,
  type CreateOcspResponderOptions,
  type OcspCertStatus,
  type OcspResponder,
  type OcspResponseStatus,
  type OcspSingleResponse,
} from './ocsp-responder.js';
export {
  MAX_TIME_STAMP_REQUEST_BYTES,
  TIME_STAMP_FAILURE_BITS,
  parseTimeStampRequest,
  type TimeStampFailure,
  type TimeStampHashAlgorithm,
  type TimeStampRejection,
  type TimeStampRequest,
} from './time-stamp-request.js';
export {
  createTimeStampAuthority,
  timeStampRejectionResponse,
  type CreateTimeStampAuthorityOptions,
  type TimeStampAuthority,
  type TimeStampOptions,
  type TimeStampResponse,
  type TimeStampToken,
} from './time-stamp-authority.js';
export {
  TimeStampResponseError,
  buildTimeStampQuery,
  readTimeStamp,
  readTimeStampResponse,
  type ReceivedTimeStamp,
  type TimeStampQuery,
  type TimeStampTokenInfo,
} from './time-stamp-response.js';
export { buildCrl, type BuildCrlOptions, type CrlEntry } from './crl.js';
export { buildPkcs12, type BuildPkcs12Options } from './pkcs12.js';
export { OID } from './oids.js';
/** The hand-written DER writer and reader, for other packages' fixed, shallow structures on hot paths. */
export * as der from './der.js';
