import { invalidArgument } from '@c2pa-mesh/errors';
import type { certificateAuthorityV1 } from '@c2pa-mesh/proto';
import { callOptions } from './caller.js';
import { readBody, sendJson, type Exchange } from './exchange.js';
import type { RouteContext } from './gateway.js';

/** Verimago's onboarding: publishers and creators apply, and activate the certificate issued on approval. */

const MAX_APPLICATION_BYTES = 16 * 1024;
const APPLICATION_FIELDS = ['organizationName', 'contactEmail', 'contactName', 'domain', 'jurisdiction', 'description'] as const;

async function jsonObject(exchange: Exchange, maxBytes: number, what: string): Promise<Record<string, unknown>> {
  const text = Buffer.from(await readBody(exchange, maxBytes, 'the JSON body')).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw invalidArgument(`the body is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidArgument(`the body must be a JSON object with ${what}`);
  return body as Record<string, unknown>;
}

function stringField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalidArgument(`"${name}" must be a string`, { details: { field: name } });
  return value;
}

/** `POST /v1/apply`: no credential; 201 with the application id the applicant checks back with. */
export async function verimagoApply(exchange: Exchange, context: RouteContext): Promise<void> {
  const body = await jsonObject(exchange, MAX_APPLICATION_BYTES, 'contactEmail and contactName (and organizationName and domain for a publisher)');
  const [organizationName, contactEmail, contactName, domain, jurisdiction, description] = APPLICATION_FIELDS.map((name) => stringField(body, name));
  const clients = context.clientsFor(exchange.peer);
  // No headers: applying is anonymous even when the caller sends a key.
  const result = await clients.onboarding.submitApplication(
    { organizationName, contactEmail, contactName, domain, jurisdiction, description },
    { signal: callOptions(exchange).signal },
  );
  sendJson(exchange, 201, { id: result.applicationId, status: result.status, message: result.message });
}

/** `GET /v1/apply/{id}`: no credential; the status and the outcome of the review. */
export async function verimagoApplicationStatus(exchange: Exchange, context: RouteContext, id: string): Promise<void> {
  if (id === '' || id.includes('/')) throw invalidArgument('name the application: GET /verimago/v1/apply/{id}', { details: { field: 'id' } });
  const clients = context.clientsFor(exchange.peer);
  const app = await clients.onboarding.getApplication({ applicationId: id }, { signal: callOptions(exchange).signal });
  sendJson(exchange, 200, {
    id: app.applicationId,
    status: app.status,
    type: app.kind.toLowerCase(),
    organizationName: app.organizationName || null,
    submittedAt: app.submittedAt,
    reviewedAt: app.reviewedAt || null,
    reason: app.reason || null,
  });
}

/** A certificate as the Verimago routes show it. */
export function verimagoCertificate(c: certificateAuthorityV1.Certificate) {
  return {
    id: c.certificateId,
    name: c.commonName,
    status: c.status,
    serialNumber: c.serialNumber,
    subject: c.subject,
    keyAlgorithm: c.keyAlgorithm,
    issuedAt: c.issuedAt,
    notBefore: c.notBefore,
    expiresAt: c.notAfter,
    certificatePem: c.certificatePem,
  };
}

/** `PATCH /v1/certs/{id}/activate`: Bearer token of the organization's owner or admin (`ca.issue`). */
export async function verimagoActivateCertificate(exchange: Exchange, context: RouteContext, id: string): Promise<void> {
  if (id === '' || id.includes('/')) throw invalidArgument('name the certificate: PATCH /verimago/v1/certs/{id}/activate', { details: { field: 'id' } });
  const clients = context.clientsFor(exchange.peer);
  const result = await clients.certificateAuthority.activateCertificate({ certificateId: id }, callOptions(exchange));
  sendJson(exchange, 200, verimagoCertificate(result.certificate!));
}
