import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { MESH_SPIFFE_PREFIX, hasScope, type Identity, type Scope } from '@c2pa-mesh/auth';
import { invalidArgument, notFound, permissionDenied } from '@c2pa-mesh/errors';
import { isKeyAlgorithm, type KeyAlgorithm } from '@c2pa-mesh/key-custody';
import { parseCertificationRequest, type CertificationRequestInfo } from '@c2pa-mesh/pki';
import { certificateAuthorityV1 } from '@c2pa-mesh/proto';
import { callContext, callerIdentity } from '@c2pa-mesh/server';
import { findBindingProjectsBySanUri, isKnownProject } from '@c2pa-mesh/storage';
import type { CertificateAuthority } from './certificate-authority.js';
import { toCertificateMessage } from './certificate-records.js';
import { issue, type IssuancePlan, type IssuableProfile } from './issuance.js';

const PROFILES: readonly IssuableProfile[] = ['C2PA_SIGNING', 'MESH_CLIENT', 'MESH_SERVER'];
/** End-entity validity: the CA/Browser Forum's former ceiling, which C2PA trust lists follow. */
export const MAX_LEAF_VALIDITY_DAYS = 825;
export const DEFAULT_LEAF_VALIDITY_DAYS = 365;
/** What a MESH_CLIENT certificate bound to a project may do (never more than its issuer may). */
export const CLIENT_CERTIFICATE_SCOPES: readonly Scope[] = ['sign', 'verify', 'registry.read'];
const PKCS12_PASSWORD_LENGTH = { min: 8, max: 1024 };

/** The scopes a client certificate issued or activated by `identity` gets: the defaults it holds itself. */
export function clientScopesFor(identity: Identity): string[] {
  return CLIENT_CERTIFICATE_SCOPES.filter((scope) => hasScope(identity, scope));
}

/** True for URIs in the mesh's own SPIFFE trust domain, compared as URIs compare (scheme and host without case). */
export function isReservedSanUri(uri: string): boolean {
  const trimmed = uri.trim().toLowerCase();
  return trimmed.startsWith(MESH_SPIFFE_PREFIX) || /^spiffe:\/\/c2pa-mesh(?:[/:?#]|$)/.test(trimmed);
}

function keyAlgorithmOf(requested: string, csr: CertificationRequestInfo | undefined): KeyAlgorithm {
  const normalized = requested.trim().toUpperCase();
  if (normalized !== '' && !isKeyAlgorithm(normalized)) {
    throw invalidArgument(`key_algorithm "${requested}" is not supported; use ES256, ES384, PS256 or ED25519`);
  }
  if (!csr) return normalized === '' ? 'ES256' : (normalized as KeyAlgorithm);
  if (normalized !== '' && normalized !== csr.keyAlgorithm) {
    throw invalidArgument(`key_algorithm is ${normalized} but the CSR carries a ${csr.keyAlgorithm} key; leave key_algorithm empty or make them match`);
  }
  return csr.keyAlgorithm;
}

async function projectFor(ca: CertificateAuthority, identity: Identity, requested: string): Promise<string | null> {
  if (identity.projectId !== undefined) {
    // A project's own identity issues for its project only; another project looks absent.
    if (requested && requested !== identity.projectId) throw notFound(`no project ${requested}`);
    return identity.projectId;
  }
  if (!requested) return null;
  if (!(await isKnownProject(ca.deps.db, requested))) throw notFound(`no project ${requested}; create it with RegistryService.CreateProject first`);
  return requested;
}

/** Validates an IssueCertificateRequest into a plan: every rule a request must meet is here. */
export async function planIssuance(ca: CertificateAuthority, req: certificateAuthorityV1.IssueCertificateRequest, identity: Identity): Promise<IssuancePlan> {
  const profile = req.profile.trim().toUpperCase() as IssuableProfile;
  if (!PROFILES.includes(profile)) {
    throw invalidArgument(`profile "${req.profile}" cannot be issued; use C2PA_SIGNING, MESH_CLIENT or MESH_SERVER`);
  }
  const sans = req.sanUris.length + req.sanDns.length + req.sanIps.length;
  if (identity.kind === 'SERVICE' && (profile !== 'C2PA_SIGNING' || !req.requireActivation || !req.projectId || req.csrPem.trim() !== '' || sans > 0)) {
    // A mesh service issues only what onboarding needs: a CA-held signing key for a project, which
    // signs nothing until the project's owner activates it.
    throw permissionDenied('a mesh service may issue only C2PA_SIGNING certificates for a project, with require_activation, a CA-generated key and no SANs');
  }
  if (profile === 'MESH_SERVER' && identity.projectId !== undefined) {
    // Every mesh service trusts the mesh CA for TLS: a server certificate could impersonate one.
    throw permissionDenied('MESH_SERVER certificates are issued only to mesh-wide administrators');
  }
  if (req.validityDays < 0 || req.validityDays > MAX_LEAF_VALIDITY_DAYS) {
    throw invalidArgument(`validity_days must be between 1 and ${MAX_LEAF_VALIDITY_DAYS} (0 for the default, ${DEFAULT_LEAF_VALIDITY_DAYS})`);
  }
  const csr = req.csrPem.trim() ? parseCertificationRequest(req.csrPem) : undefined;
  const keyAlgorithm = keyAlgorithmOf(req.keyAlgorithm, csr);

  const commonName = req.commonName || csr?.subject.commonName;
  if (!commonName) throw invalidArgument(csr ? 'the CSR has no common name: set common_name' : 'common_name is required');
  const organization = req.organization || csr?.subject.organization;

  // Requested SANs replace the CSR's; the CSR's are used only when the request names none.
  const pick = (requested: string[], fromCsr: string[] | undefined) => (requested.length > 0 ? requested : fromCsr ?? []);
  const san = { dns: pick(req.sanDns, csr?.sanDns), ip: pick(req.sanIps, csr?.sanIps), uri: pick(req.sanUris, csr?.sanUris) };
  const reserved = san.uri.find(isReservedSanUri);
  if (reserved) {
    // The mesh maps these URIs to its admin and service identities: nobody may obtain one here.
    throw invalidArgument(`SAN URI "${reserved}" is reserved for the mesh's own identities (${MESH_SPIFFE_PREFIX}…); choose a URI outside it`);
  }

  const projectId = await projectFor(ca, identity, req.projectId);
  if (identity.projectId !== undefined && san.uri.length > 0) {
    // A client binding may name a SAN URI: a certificate carrying another project's would act for it.
    const others = (await findBindingProjectsBySanUri(ca.deps.db, san.uri)).filter((project) => project !== identity.projectId);
    if (others.length > 0) throw permissionDenied('a SAN URI of this request identifies a client of another project; choose another URI');
  }

  const generatesMeshKey = !csr && profile !== 'C2PA_SIGNING';
  if (req.pkcs12Password) {
    if (!generatesMeshKey) throw invalidArgument('pkcs12_password applies only when the CA generates the key of a MESH_CLIENT or MESH_SERVER certificate');
    if (req.pkcs12Password.length < PKCS12_PASSWORD_LENGTH.min || req.pkcs12Password.length > PKCS12_PASSWORD_LENGTH.max) {
      throw invalidArgument(`pkcs12_password must be ${PKCS12_PASSWORD_LENGTH.min} to ${PKCS12_PASSWORD_LENGTH.max} characters; leave it empty to get a generated one`);
    }
  }

  return {
    profile,
    subject: { commonName, ...(organization ? { organization } : {}) },
    san,
    ...(csr ? { subjectPublicKeySpki: csr.subjectPublicKeySpki } : {}),
    keyAlgorithm,
    validityDays: req.validityDays || DEFAULT_LEAF_VALIDITY_DAYS,
    projectId,
    requireActivation: req.requireActivation,
    bindingScopes: profile === 'MESH_CLIENT' && projectId ? clientScopesFor(identity) : [],
    ...(req.pkcs12Password ? { pkcs12Password: req.pkcs12Password } : {}),
  };
}

export async function issueCertificateHandler(ca: CertificateAuthority, req: certificateAuthorityV1.IssueCertificateRequest, ctx: HandlerContext) {
  const identity = callerIdentity(ctx);
  const plan = await planIssuance(ca, req, identity);
  // The audit event belongs to the project the certificate is for.
  if (plan.projectId) callContext(ctx).projectId = plan.projectId;
  const result = await issue(ca, plan);
  return create(certificateAuthorityV1.IssueCertificateResponseSchema, {
    certificate: toCertificateMessage(result.row),
    privateKeyPem: result.privateKeyPem ?? '',
    pkcs12: result.pkcs12 ?? new Uint8Array(),
    pkcs12Password: result.pkcs12Password ?? '',
  });
}
