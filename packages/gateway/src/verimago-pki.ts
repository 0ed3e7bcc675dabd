import { X509Certificate } from 'node:crypto';
import type { Identity } from '@c2pa-mesh/auth';
import { invalidArgument, notFound, unavailable } from '@c2pa-mesh/errors';
import type { certificateAuthorityV1 } from '@c2pa-mesh/proto';
import { callOptions } from './caller.js';
import { header, readBody, send, sendJson, type Exchange } from './exchange.js';
import type { RouteContext } from './gateway.js';
import { bearerOf, jsonObject, projectCaller, VERIMAGO_LIMITS } from './verimago-http.js';

/**
 * Verimago's certificates, OCSP and TSA endpoints over the mesh's certificate authority. The
 * certificates are the caller's organization project's (another's are not found); OCSP and TSA
 * are public, as the mesh's relying-party listener serves them.
 */

const MAX_LISTED = 1000;
/** RFC 3161 requests are small: a digest, a policy, a nonce (the CA's own limit is 16 KB). */
const MAX_TIME_STAMP_QUERY_BYTES = 16 * 1024;

/** The public key of a certificate, SPKI PEM; empty when the PEM cannot be read. */
function publicKeyPem(certificatePem: string): string {
  try {
    return new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  } catch {
    return '';
  }
}

/**
 * One certificate in Verimago's words. `status` is the CA's as it is (`PENDING`, `ACTIVE`,
 * `REVOKED`, `EXPIRED`, or any state it adds later): clients show what they do not know.
 */
function certificateView(cert: certificateAuthorityV1.Certificate) {
  return {
    id: cert.certificateId,
    status: cert.status || 'UNKNOWN',
    serialNumber: cert.serialNumber,
    subject: cert.subject,
    commonName: cert.commonName,
    profile: cert.profile,
    keyAlgorithm: cert.keyAlgorithm,
    issuedAt: cert.issuedAt || null,
    notBefore: cert.notBefore,
    expiresAt: cert.notAfter,
    revokedAt: cert.revokedAt || null,
    revocationReason: cert.revokedAt ? cert.revocationReason : null,
  };
}

function certificateDetails(cert: certificateAuthorityV1.Certificate) {
  return {
    ...certificateView(cert),
    publicKey: publicKeyPem(cert.certificatePem),
    spkiSha256: cert.spkiSha256,
    certificatePem: cert.certificatePem,
    chainPem: cert.chainPem,
  };
}

/** `GET certs`: the caller's organization project's certificates, newest first. */
export async function listVerimagoCerts(exchange: Exchange, context: RouteContext): Promise<void> {
  await projectCaller(exchange, context);
  const ca = context.clientsFor(exchange.peer).certificateAuthority;
  const items: ReturnType<typeof certificateView>[] = [];
  let pageToken = '';
  do {
    const page = await ca.listCertificates({ pageSize: 500, pageToken }, callOptions(exchange));
    items.push(...page.certificates.map(certificateView));
    pageToken = page.nextPageToken;
  } while (pageToken !== '' && items.length < MAX_LISTED);
  sendJson(exchange, 200, { items, total: items.length });
}

/** `GET certs/{id}`: status, expiry and public key (and the certificate itself). */
export async function getVerimagoCert(exchange: Exchange, context: RouteContext, id: string): Promise<void> {
  if (id.includes('/')) throw notFound(`no such endpoint: ${exchange.method} ${exchange.path}`);
  await projectCaller(exchange, context);
  const { certificate } = await context.clientsFor(exchange.peer).certificateAuthority.getCertificate({ certificateId: id }, callOptions(exchange));
  sendJson(exchange, 200, certificateDetails(certificate!));
}

/** RFC 5280 CRLReason codes revocation accepts (hold and removal are not final, 7 is unused). */
const REVOCATION_REASONS: Record<string, number> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

function revocationReason(value: unknown): number {
  if (value === undefined || value === null || value === '') return 0;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && value in REVOCATION_REASONS) return REVOCATION_REASONS[value];
  throw invalidArgument(`"reason" must be an RFC 5280 reason: one of ${Object.keys(REVOCATION_REASONS).join(', ')} (or its code)`, { details: { field: 'reason' } });
}

/** `PATCH certs/{id}/revoke`: at once for OCSP, the CRL and signing; signatures stay valid. */
export async function revokeVerimagoCert(exchange: Exchange, context: RouteContext, rest: string): Promise<void> {
  const id = rest.slice(0, -'/revoke'.length);
  await projectCaller(exchange, context);
  const body = await jsonObject(exchange);
  const { certificate } = await context
    .clientsFor(exchange.peer)
    .certificateAuthority.revokeCertificate({ certificateId: id, reason: revocationReason(body.reason) }, callOptions(exchange));
  sendJson(exchange, 200, certificateView(certificate!));
}

/**
 * Whoever calls the public OCSP and TSA endpoints, limited per address like Verimago's other
 * endpoints; its own id keeps these calls out of the per-address count of public lookups.
 */
function publicCaller(exchange: Exchange, scopes: Identity['scopes']): Identity {
  return {
    kind: 'ANONYMOUS',
    id: `anonymous-pki:${exchange.peer.clientIp || 'unknown'}`,
    scopes,
    limits: { maxAssetBytes: 0, requestsPerMinute: VERIMAGO_LIMITS.other },
  };
}

/** A serial number no CA issues (serials are positive and random): asking for it exercises the responder. */
const PROBE_SERIAL = '1';

/** `GET ocsp/status`: the responder answers a status query. */
async function ocspHealth(exchange: Exchange, context: RouteContext): Promise<void> {
  const clients = context.clientsFor({ ...exchange.peer, presetIdentity: publicCaller(exchange, new Set()) });
  const started = performance.now();
  const answer = await clients.certificateAuthority.checkStatus({ serialNumber: PROBE_SERIAL, omitOcspResponse: true }, { signal: callOptions(exchange).signal });
  sendJson(exchange, 200, { status: 'ok', responder: 'c2pa-mesh certificate authority', checkedAt: answer.thisUpdate || new Date().toISOString(), durationMs: Math.round(performance.now() - started) });
}

/**
 * `GET ocsp/{certId}`: the certificate's OCSP status (RFC 6960) as JSON with the signed response
 * in base64, or the DER response itself for `Accept: application/ocsp-response`.
 */
export async function verimagoOcsp(exchange: Exchange, context: RouteContext, rest: string): Promise<void> {
  if (rest === 'status') return ocspHealth(exchange, context);
  if (rest.includes('/')) throw notFound(`no such endpoint: ${exchange.method} ${exchange.path}`);
  const clients = context.clientsFor({ ...exchange.peer, presetIdentity: publicCaller(exchange, new Set()) });
  const answer = await clients.certificateAuthority.checkStatus({ certificateId: rest }, { signal: callOptions(exchange).signal });
  if (/application\/ocsp-response/i.test(header(exchange.req, 'accept') ?? '')) {
    if (answer.ocspResponse.length === 0) throw notFound(`no certificate ${rest} from this CA`);
    return send(exchange, 200, answer.ocspResponse, { 'content-type': 'application/ocsp-response', 'cache-control': 'no-store' });
  }
  sendJson(exchange, 200, {
    certId: answer.certificateId || rest,
    serialNumber: answer.serialNumber,
    status: answer.status,
    revokedAt: answer.revokedAt || null,
    revocationReason: answer.status === 'REVOKED' ? answer.revocationReason : null,
    thisUpdate: answer.thisUpdate,
    nextUpdate: answer.nextUpdate,
    ocspResponse: Buffer.from(answer.ocspResponse).toString('base64'),
  });
}

/**
 * The clients for a time-stamp call: as the caller when it sends a credential (which needs the
 * `sign` scope), otherwise as a public caller that may time-stamp and nothing else, as the mesh's
 * relying-party `POST /tsa` lets anyone do (camera apps stamp during capture).
 */
function timestampClients(exchange: Exchange, context: RouteContext) {
  if (bearerOf(exchange) !== undefined) return { clients: context.clientsFor(exchange.peer), options: callOptions(exchange) };
  const clients = context.clientsFor({ ...exchange.peer, presetIdentity: publicCaller(exchange, new Set(['sign'])) });
  return { clients, options: { signal: callOptions(exchange).signal } };
}

/** A DER TimeStampReq (RFC 3161) for a SHA-256 digest: version 1, the imprint, nothing else. */
function timeStampQuery(sha256: Buffer): Uint8Array {
  const prefix = Buffer.from('30360201013031300d060960864801650304020105000420', 'hex');
  return new Uint8Array(Buffer.concat([prefix, sha256]));
}

/** `GET tsa/status`: the TSA grants a token for a fixed digest. */
export async function verimagoTsaStatus(exchange: Exchange, context: RouteContext): Promise<void> {
  const { clients, options } = timestampClients(exchange, context);
  const started = performance.now();
  const stamped = await clients.certificateAuthority.timestamp({ timestampQuery: timeStampQuery(Buffer.alloc(32)) }, options);
  if (stamped.status !== 'GRANTED') throw unavailable('the time-stamp authority refused a well-formed request; retry shortly');
  sendJson(exchange, 200, { status: 'ok', genTime: stamped.genTime, durationMs: Math.round(performance.now() - started) });
}

/** `POST tsa`: an RFC 3161 TimeStampReq (application/timestamp-query) in, a TimeStampResp out. */
export async function verimagoTsa(exchange: Exchange, context: RouteContext): Promise<void> {
  const query = await readBody(exchange, MAX_TIME_STAMP_QUERY_BYTES, 'the time-stamp query');
  if (query.length === 0) throw invalidArgument('send a DER TimeStampReq (RFC 3161) as the body, Content-Type: application/timestamp-query');
  const { clients, options } = timestampClients(exchange, context);
  const stamped = await clients.certificateAuthority.timestamp({ timestampQuery: query }, options);
  send(exchange, 200, stamped.timestampResponse, { 'content-type': 'application/timestamp-reply' });
}
