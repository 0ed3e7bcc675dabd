import { MAX_OCSP_REQUEST_BYTES, MAX_TIME_STAMP_REQUEST_BYTES, ocspErrorResponse, timeStampRejectionResponse } from '@c2pa-mesh/pki';
import type { RelyingPartyRequest, RelyingPartyResponse, RelyingPartyRoute } from '@c2pa-mesh/server';
import type { CertificateAuthority } from './certificate-authority.js';
import type { CrlIssuer } from './crl-service.js';
import type { OcspAnswer } from './ocsp-service.js';

const PEM = 'application/x-pem-file';
const OCSP_RESPONSE = 'application/ocsp-response';
const TIMESTAMP_REPLY = 'application/timestamp-reply';
const MALFORMED = ocspErrorResponse('malformedRequest');

/** Base64 of an OCSP request at its size limit, plus URL-encoding of `+`, `/` and `=`. */
const MAX_GET_REQUEST_CHARS = Math.ceil((MAX_OCSP_REQUEST_BYTES * 4) / 3) * 3;

/**
 * The request of `GET /ocsp/{request}` (RFC 6960 Appendix A.1): base64 of the DER, URL-encoded.
 * base64url is accepted too, and so is a `+` that a form decoder turned into a space.
 */
export function ocspRequestFromPath(path: string): Uint8Array | undefined {
  const encoded = path.slice('/ocsp/'.length);
  if (encoded.length === 0 || encoded.length > MAX_GET_REQUEST_CHARS) return undefined;
  let text: string;
  try {
    text = decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
  text = text.replace(/ /g, '+').replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const der = Buffer.from(text, 'base64');
  return der.length > 0 ? new Uint8Array(der.buffer, der.byteOffset, der.byteLength) : undefined;
}

function ocspResponse(answer: OcspAnswer, cacheHeaders: boolean, ifNoneMatch: string | undefined, maxAgeCap: number): RelyingPartyResponse {
  const info = answer.cache;
  if (!cacheHeaders || !info) {
    return { status: 200, contentType: OCSP_RESPONSE, body: answer.der, headers: { 'cache-control': 'no-store' } };
  }
  // RFC 5019 §6.2: max-age below nextUpdate; here also no longer than this responder keeps it.
  const maxAge = Math.max(0, Math.min(maxAgeCap, Math.floor((info.refreshAt - Date.now()) / 1000)));
  const headers = {
    'cache-control': `max-age=${maxAge}, public, no-transform, must-revalidate`,
    etag: info.etag,
    'last-modified': info.thisUpdate.toUTCString(),
    expires: info.nextUpdate.toUTCString(),
  };
  if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim() === info.etag)) {
    return { status: 304, contentType: OCSP_RESPONSE, body: new Uint8Array(), headers };
  }
  return { status: 200, contentType: OCSP_RESPONSE, body: answer.der, headers };
}

function crlRoute(ca: CertificateAuthority, path: string, issuer: CrlIssuer): RelyingPartyRoute {
  return {
    method: 'GET',
    path,
    async handle(request) {
      const crl = await ca.crl.crlFor(issuer);
      const headers = {
        'cache-control': `max-age=${Math.max(0, Math.min(ca.settings.ocspHttpMaxAgeSeconds, Math.floor((crl.nextUpdate.getTime() - Date.now()) / 1000)))}, public`,
        'last-modified': crl.thisUpdate.toUTCString(),
        expires: crl.nextUpdate.toUTCString(),
      };
      // `?pem` asks for the PEM form (RFC 7468 "X509 CRL"); DER is what RFC 5280 §4.2.1.13 points to.
      if (request.query.has('pem')) return { status: 200, contentType: PEM, body: crl.pem, headers };
      return { status: 200, contentType: 'application/pkix-crl', body: crl.der, headers };
    },
  };
}

/**
 * What relying parties reach without credentials: OCSP (RFC 6960, POST and GET), the time-stamp
 * authority (RFC 3161), CRLs, and the C2PA certificates to trust and chain with. None of these
 * answers a bad request with an error page: OCSP gets malformedRequest, the TSA a rejection.
 */
export function certificateAuthorityRoutes(ca: CertificateAuthority): RelyingPartyRoute[] {
  const { deps, settings } = ca;
  const chainPem = `${deps.c2paIntermediate.pem.trim()}\n${deps.c2paRoot.pem.trim()}\n`;
  const tsaChainPem = `${deps.timeStampAuthority.pem.trim()}\n${chainPem}`;
  const logger = deps.logger;

  const respondToOcsp = async (request: RelyingPartyRequest, der: Uint8Array | undefined, viaGet: boolean): Promise<RelyingPartyResponse> => {
    if (!der) return { status: 200, contentType: OCSP_RESPONSE, body: MALFORMED, headers: { 'cache-control': 'no-store' } };
    const answer = await ca.ocsp.respond(der);
    const ifNoneMatch = request.headers['if-none-match'];
    return ocspResponse(answer, viaGet, typeof ifNoneMatch === 'string' ? ifNoneMatch : undefined, settings.ocspHttpMaxAgeSeconds);
  };

  return [
    { method: 'GET', path: '/ca/root.pem', handle: () => ({ status: 200, contentType: PEM, body: deps.c2paRoot.pem }) },
    { method: 'GET', path: '/ca/chain.pem', handle: () => ({ status: 200, contentType: PEM, body: chainPem }) },
    { method: 'GET', path: '/ca/intermediate.pem', handle: () => ({ status: 200, contentType: PEM, body: deps.c2paIntermediate.pem }) },
    // The TSA certificate and its chain: what `openssl ts -verify -untrusted` needs for tokens requested without certReq.
    { method: 'GET', path: '/ca/tsa.pem', handle: () => ({ status: 200, contentType: PEM, body: tsaChainPem }) },
    crlRoute(ca, '/ca/crl', ca.crlIssuers.c2pa),
    // Named in the intermediate's CRL distribution point.
    crlRoute(ca, '/ca/root.crl', ca.crlIssuers.root),
    {
      method: 'POST',
      path: '/ocsp',
      maxBodyBytes: MAX_OCSP_REQUEST_BYTES,
      handle: (request) => respondToOcsp(request, request.body.length > 0 ? request.body : undefined, false),
    },
    { method: 'GET', path: '/ocsp/', handle: (request) => respondToOcsp(request, ocspRequestFromPath(request.path), true) },
    {
      method: 'POST',
      path: '/tsa',
      maxBodyBytes: MAX_TIME_STAMP_REQUEST_BYTES,
      async handle(request) {
        try {
          const result = await ca.tsa.respond(request.body);
          return { status: 200, contentType: TIMESTAMP_REPLY, body: result.response };
        } catch (err) {
          logger.error({ err, requestId: request.requestId }, 'time-stamp token could not be produced');
          return { status: 200, contentType: TIMESTAMP_REPLY, body: timeStampRejectionResponse('systemFailure', 'the time-stamp authority failed; try again') };
        }
      },
    },
  ];
}
