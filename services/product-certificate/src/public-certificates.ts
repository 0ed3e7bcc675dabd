import { findProductCertificate, type ProductCertificateRow } from '@c2pa-mesh/storage';
import { claimMismatches, fullCertificate, minimalCertificate, proofClaims, type CertificateFacts } from './certificate-document.js';
import { isImageId } from './certification.js';
import type { ProductCertificateDeps } from './deps.js';
import { normalizeDomain } from '@c2pa-mesh/mc4p';
import { loadFacts } from './facts.js';
import type { PublishedJwk } from './proof-keys.js';

/**
 * Mintall's public verification API, apart from HTTP: what each call answers, with Mintall's
 * status codes. 400 bad request, 402 paused, 403 domain not authorized or context mismatch,
 * 404 unknown (or revoked) certificate, 412 domain not verified while enforcement is on,
 * 422 invalid proof or a field the certificate does not bind.
 */

export interface Problem {
  code: string;
  message: string;
}

export interface PublicAnswer {
  status: 200 | 400 | 402 | 403 | 404 | 412 | 422;
  body: Record<string, unknown>;
}

export interface PublicProductCertificates {
  jwks(): Promise<{ keys: PublishedJwk[] }>;
  certificate(imageId: string, options: { full: boolean }): Promise<PublicAnswer>;
  verify(imageId: string, request: unknown): Promise<PublicAnswer>;
}

type Found = { row: ProductCertificateRow } | { answer: PublicAnswer };

function problem(status: PublicAnswer['status'], code: string, message: string, extra: Record<string, unknown> = {}): PublicAnswer {
  return { status, body: { ...extra, errors: [{ code, message }] } };
}

export function createPublicProductCertificates(deps: ProductCertificateDeps): PublicProductCertificates {
  /** Revoked certificates are gone for the public: 404 as if never issued. */
  async function publicCertificate(imageId: string, verifyShape: Record<string, unknown>): Promise<Found> {
    const id = imageId.toLowerCase();
    const row = isImageId(id) ? await findProductCertificate(deps.db, id) : undefined;
    if (!row || row.status === 'REVOKED') return { answer: problem(404, 'not_found', `no certificate exists for image ${imageId.slice(0, 80)}`, verifyShape) };
    if (row.status === 'PAUSED') return { answer: problem(402, 'certificate_paused', `the certificate for image ${row.id} is paused by its owner`, verifyShape) };
    return { row };
  }

  /** Whether the stored proof verifies with a published key and states what the certificate does. */
  async function proofProblems(facts: CertificateFacts): Promise<string[]> {
    const verified = await deps.keys.verify(facts.certificate.jwt);
    if ('failure' in verified) return [verified.failure];
    const mismatches = claimMismatches(verified.payload, proofClaims(facts.certificate, facts.asset, facts.certificate.updated_at));
    return mismatches.map((name) => `the proof's ${name} differs from the certificate's`);
  }

  /** What weakens the provenance the certificate rests on, since it was issued. */
  function provenanceWarnings(facts: CertificateFacts): Problem[] {
    const warnings = signerWarnings(facts);
    if (facts.asset.status !== 'ACTIVE') warnings.push({ code: 'asset_deleted', message: `the certified asset was deleted from the registry on ${facts.asset.updated_at.toISOString()}` });
    return warnings;
  }

  function signerWarnings(facts: CertificateFacts): Problem[] {
    const signing = facts.signingCertificate;
    if (!signing) return [{ code: 'signer_unknown', message: 'the certificate that signed the C2PA manifest is not known to this mesh' }];
    if (signing.status === 'REVOKED') {
      const when = signing.revoked_at ? ` on ${signing.revoked_at.toISOString()}` : '';
      return [{ code: 'signing_certificate_revoked', message: `the certificate that signed the image's C2PA manifest (serial ${signing.serial_number}) was revoked${when}` }];
    }
    if (signing.not_after.getTime() < Date.now()) {
      return [{ code: 'signing_certificate_expired', message: `the certificate that signed the image's C2PA manifest expired on ${signing.not_after.toISOString()}` }];
    }
    return [];
  }

  return {
    jwks: () => deps.keys.jwks(),

    async certificate(imageId, options) {
      const found = await publicCertificate(imageId, {});
      if ('answer' in found) return found.answer;
      const facts = await loadFacts(deps, found.row);
      return { status: 200, body: options.full ? fullCertificate(facts) : minimalCertificate(facts) };
    },

    async verify(imageId, request) {
      const shape = { verified: false, imageId };
      if (typeof request !== 'object' || request === null || Array.isArray(request)) {
        return problem(400, 'invalid_request', 'the body must be a JSON object such as {"domain": "merchant.example"}', shape);
      }
      const { domain, verifyField, fieldValue } = request as Record<string, unknown>;
      if (typeof domain !== 'string' || domain.trim() === '') return problem(400, 'invalid_request', 'domain is required: the host name where the image was observed', shape);
      if (verifyField !== undefined && (typeof verifyField !== 'string' || verifyField === '')) return problem(400, 'invalid_request', 'verifyField must be a field name such as "productId"', shape);
      if (fieldValue !== undefined && typeof fieldValue !== 'string') return problem(400, 'invalid_request', 'fieldValue must be a string', shape);
      if (fieldValue !== undefined && verifyField === undefined) return problem(400, 'invalid_request', 'fieldValue needs verifyField: name the field it is the value of', shape);
      const currentDomain = normalizeDomain(domain);
      if (currentDomain === undefined) return problem(400, 'invalid_request', `domain must be a host name such as merchant.example (no scheme, path or port), got "${domain.slice(0, 100)}"`, shape);

      const found = await publicCertificate(imageId, { ...shape, currentDomain });
      if ('answer' in found) return found.answer;
      const facts = await loadFacts(deps, found.row);
      const { certificate } = facts;
      const domainMatches = certificate.authorized_domains.includes(currentDomain);
      const proof = await proofProblems(facts);
      const certificateConsistency = proof.length === 0;
      const checks: Record<string, boolean> = { domainMatches, certificateConsistency };
      const warnings = provenanceWarnings(facts);
      const answer = (status: PublicAnswer['status'], errors: Problem[]): PublicAnswer => ({
        status,
        body: {
          verified: status === 200,
          imageId: certificate.id,
          ...(domainMatches ? { authorizedDomain: currentDomain } : {}),
          currentDomain,
          checks,
          warnings,
          errors,
        },
      });

      if (!domainMatches) return answer(403, [{ code: 'domain_not_authorized', message: `${currentDomain} is not authorized for this certificate` }]);
      const verifiedDomain = await deps.domains.isVerified(certificate.project_id, currentDomain);
      if (!verifiedDomain) {
        if (deps.domains.enforced) return answer(412, [{ code: 'domain_verification_required', message: `${currentDomain} has not been verified by the certificate's owner, and this server requires it` }]);
        warnings.push({ code: 'domain_not_verified', message: `${currentDomain} is authorized but its owner has not verified it` });
      }
      if (!certificateConsistency) return answer(422, proof.map((message) => ({ code: 'invalid_proof', message })));
      if (typeof verifyField === 'string') {
        const bound = certificate.bound_fields[verifyField];
        if (bound === undefined) {
          checks.contextMatches = false;
          return answer(422, [{ code: 'unsupported_field', message: `this certificate binds no field "${verifyField.slice(0, 64)}"; it binds ${Object.keys(certificate.bound_fields).join(', ') || 'none'}` }]);
        }
        checks.contextMatches = fieldValue === undefined || fieldValue === bound;
        if (!checks.contextMatches) return answer(403, [{ code: 'context_mismatch', message: `${verifyField} does not match the value this certificate is bound to` }]);
      }
      return answer(200, []);
    },
  };
}
