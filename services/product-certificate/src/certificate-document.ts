import { Buffer } from 'node:buffer';
import type { JWTPayload } from 'jose';
import type { AssetRow, CertificateRow, ProductCertificateRow } from '@c2pa-mesh/storage';
import type { ProofClaims } from '@c2pa-mesh/mc4p';

/** Everything a certificate document states, read together. */
export interface CertificateFacts {
  certificate: ProductCertificateRow;
  asset: AssetRow;
  /** The certificate that signed the asset's C2PA manifest, as the CA knows it now. */
  signingCertificate: CertificateRow | undefined;
  /** True when the project verified every authorized domain. */
  domainVerified: boolean;
}

/** Issuer named in every proof. */
export const PROOF_ISSUER = 'c2pa-mesh';

export const FULL_CONTEXT = ['https://schema.org', 'https://w3id.org/security/suites/jws-2020/v1'] as const;

export function proofClaims(certificate: ProductCertificateRow, asset: AssetRow, signedAt: Date): ProofClaims {
  return {
    iss: PROOF_ISSUER,
    sub: certificate.id,
    iat: Math.floor(signedAt.getTime() / 1000),
    mc4p: {
      imageId: certificate.id,
      authorizedDomains: [...certificate.authorized_domains],
      boundFields: sortedFields(certificate.bound_fields),
      asset: { sha256: hexOf(asset.asset_sha256), ...(certificate.asset_url ? { url: certificate.asset_url } : {}), format: asset.format },
      activeManifest: asset.manifest_label ?? '',
      validationState: certificate.validation_state,
      dateIssued: utc(certificate.issued_at),
    },
  };
}

/** The differences between a proof's claims and the certificate as stored; empty when they agree. */
export function claimMismatches(claims: JWTPayload, expected: ProofClaims): string[] {
  const got = (claims as Partial<ProofClaims>).mc4p;
  if (!got || typeof got !== 'object') return ['the proof carries no mc4p claims'];
  const mismatches: string[] = [];
  if (claims.sub !== expected.sub || got.imageId !== expected.mc4p.imageId) mismatches.push('imageId');
  if (!sameJson(got.authorizedDomains, expected.mc4p.authorizedDomains)) mismatches.push('authorizedDomains');
  if (!sameJson(got.boundFields, expected.mc4p.boundFields)) mismatches.push('boundFields');
  if (!sameJson(got.asset, expected.mc4p.asset)) mismatches.push('asset');
  if (got.activeManifest !== expected.mc4p.activeManifest) mismatches.push('activeManifest');
  return mismatches;
}

/** Equal as JSON values; object key order does not count (jsonb reorders keys). */
function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]));
  }
  return value;
}

function sortedFields(fields: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(fields).sort().map((key) => [key, fields[key]]));
}

/** `sha256:<hex>` → `<hex>`, as Mintall states hashes. */
function hexOf(contentHash: string): string {
  return contentHash.replace(/^sha256:/, '');
}

/** When the proof was signed: its `iat` (status changes alone do not re-sign it). */
function proofCreated(certificate: ProductCertificateRow): string {
  try {
    const payload = JSON.parse(Buffer.from(certificate.jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iat?: unknown };
    if (typeof payload.iat === 'number') return utc(new Date(payload.iat * 1000));
  } catch {
    // fall through: a proof that does not decode is reported by the consistency check
  }
  return utc(certificate.updated_at);
}

function utc(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Mintall's minimal certificate: enough to rank or prefetch, nothing for an audit. */
export function minimalCertificate(facts: CertificateFacts): Record<string, unknown> {
  return {
    '@context': 'https://schema.org',
    '@type': 'DigitalDocument',
    imageId: facts.certificate.id,
    verification: verificationBlock(facts),
  };
}

function verificationBlock(facts: CertificateFacts) {
  return {
    authorizedDomains: [...facts.certificate.authorized_domains],
    domainVerified: facts.domainVerified,
    hasSignature: facts.certificate.jwt !== '',
  };
}

/** The signer as the certificate states it, with the signing certificate's status now. */
function signerBlock(signing: CertificateRow | undefined) {
  if (!signing) return { name: '', certificateStatus: 'UNKNOWN' };
  const expired = signing.status === 'ACTIVE' && signing.not_after.getTime() < Date.now();
  return {
    name: signing.common_name,
    ...(signing.organization ? { organization: signing.organization } : {}),
    certificateSerialNumber: signing.serial_number,
    certificateStatus: expired ? 'EXPIRED' : signing.status,
    ...(signing.revoked_at ? { revokedAt: utc(signing.revoked_at) } : {}),
  };
}

/** Mintall's full certificate: JSON-LD with the C2PA references and the JWT proof. */
export function fullCertificate(facts: CertificateFacts): Record<string, unknown> {
  const { certificate, asset } = facts;
  return {
    '@context': [...FULL_CONTEXT],
    '@type': 'MediaObject',
    imageId: certificate.id,
    ...(certificate.asset_url ? { contentUrl: certificate.asset_url } : {}),
    encodingFormat: asset.format,
    sha256: hexOf(asset.asset_sha256),
    contentCredentials: {
      dateIssued: utc(certificate.issued_at),
      lastUpdated: utc(certificate.updated_at),
      asset: {
        ...(certificate.asset_url ? { url: certificate.asset_url } : {}),
        sha256: hexOf(asset.asset_sha256),
        format: asset.format,
        sizeBytes: asset.size_bytes,
      },
      activeManifest: asset.manifest_label ?? '',
      signedAt: utc(asset.signed_at),
      signer: signerBlock(facts.signingCertificate),
      // The C2PA validation the certificate was issued on; verifiers re-validate the image bytes.
      validation: { state: certificate.validation_state, verifiedAt: utc(certificate.validation_verified_at) },
    },
    context: sortedFields(certificate.bound_fields),
    verification: verificationBlock(facts),
    proof: {
      type: 'JwtProof2020',
      created: proofCreated(certificate),
      proofPurpose: 'assertionMethod',
      verificationMethod: `/.well-known/jwks.json#${certificate.kid}`,
      jwt: certificate.jwt,
    },
  };
}
