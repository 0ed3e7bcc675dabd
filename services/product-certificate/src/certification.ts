import { randomUUID } from 'node:crypto';
import { failedPrecondition, invalidArgument, notFound } from '@c2pa-mesh/errors';
import {
  findProductCertificate,
  insertProductCertificate,
  queryVerifications,
  updateProductCertificate,
  type AssetRow,
  type ProductCertificateRow,
} from '@c2pa-mesh/storage';
import { proofClaims } from './certificate-document.js';
import type { ProductCertificateDeps } from './deps.js';

/**
 * Issuing and changing product certificates. A certificate rests on provenance the mesh itself
 * established: the asset is one it signed (registered, with a C2PA manifest) and the C2PA
 * signature of those bytes verified as Valid or Trusted. Every change re-signs the proof with the
 * key that is active then.
 */

/** c2pa-rs's words for the registry's verification states. */
const STATE_WORDS: Record<string, string> = { TRUSTED: 'Trusted', VALID: 'Valid' };

/** The mesh's latest verification of these bytes; refuses an asset with none, or an invalid one. */
async function provenanceOf(deps: ProductCertificateDeps, asset: AssetRow): Promise<{ state: string; verifiedAt: Date }> {
  if (asset.status !== 'ACTIVE') throw failedPrecondition(`asset ${asset.id} is deleted; only an active asset can be certified`);
  if (asset.kind !== 'ASSET' || !asset.manifest_label) {
    throw failedPrecondition(`asset ${asset.id} is a hash record, not a signed file with a C2PA manifest; certify an image the mesh signed`);
  }
  const [latest] = await queryVerifications(deps.db, { assetSha256: asset.asset_sha256, limit: 1 });
  if (!latest) {
    throw failedPrecondition(
      `the C2PA signature of asset ${asset.id} has not been verified by this mesh yet: verify the signed image (VerificationService.Verify) first, then certify it`,
    );
  }
  const state = STATE_WORDS[latest.validation_state];
  if (state === undefined) {
    throw failedPrecondition(`the latest verification of asset ${asset.id} found its C2PA signature ${latest.validation_state.toLowerCase()}; only a Valid or Trusted image can be certified`);
  }
  return { state, verifiedAt: latest.verified_at };
}

/** A time as stored and stated: whole milliseconds, so the proof and the row agree exactly. */
function nowMs(): Date {
  return new Date(Math.floor(Date.now()));
}

export interface NewCertificateInput {
  projectId: string;
  asset: AssetRow;
  authorizedDomains: string[];
  boundFields: Record<string, string>;
  assetUrl: string | null;
}

export async function issueProductCertificate(deps: ProductCertificateDeps, input: NewCertificateInput): Promise<ProductCertificateRow> {
  const { asset } = input;
  const provenance = await provenanceOf(deps, asset);
  const issuedAt = nowMs();
  const draft: ProductCertificateRow = {
    id: randomUUID(),
    project_id: input.projectId,
    asset_id: asset.id,
    asset_url: input.assetUrl,
    authorized_domains: input.authorizedDomains,
    bound_fields: input.boundFields,
    status: 'ACTIVE',
    validation_state: provenance.state,
    validation_verified_at: provenance.verifiedAt,
    kid: '',
    jwt: '',
    issued_at: issuedAt,
    updated_at: issuedAt,
    revoked_at: null,
  };
  const { jwt, kid } = await deps.keys.sign(proofClaims(draft, asset, issuedAt));
  return insertProductCertificate(deps.db, {
    id: draft.id,
    projectId: draft.project_id,
    assetId: asset.id,
    assetUrl: draft.asset_url,
    authorizedDomains: draft.authorized_domains,
    boundFields: draft.bound_fields,
    validationState: draft.validation_state,
    validationVerifiedAt: draft.validation_verified_at,
    kid,
    jwt,
    issuedAt,
  });
}

export interface CertificateChanges {
  authorizedDomains?: string[];
  boundFields?: Record<string, string>;
}

/** New bindings (or none: the same ones) with a proof signed by the active key. */
export async function reissueProductCertificate(
  deps: ProductCertificateDeps,
  current: ProductCertificateRow,
  asset: AssetRow,
  changes: CertificateChanges,
): Promise<ProductCertificateRow> {
  if (current.status === 'REVOKED') throw failedPrecondition(`product certificate ${current.id} is revoked; a revoked certificate cannot be changed`);
  const updatedAt = nowMs();
  const next: ProductCertificateRow = {
    ...current,
    authorized_domains: changes.authorizedDomains ?? current.authorized_domains,
    bound_fields: changes.boundFields ?? current.bound_fields,
    updated_at: updatedAt,
  };
  const { jwt, kid } = await deps.keys.sign(proofClaims(next, asset, updatedAt));
  const row = await updateProductCertificate(deps.db, current.id, ['ACTIVE', 'PAUSED'], {
    authorizedDomains: next.authorized_domains,
    boundFields: next.bound_fields,
    kid,
    jwt,
    updatedAt,
  });
  if (!row) throw failedPrecondition(`product certificate ${current.id} was revoked meanwhile; a revoked certificate cannot be changed`);
  return row;
}

const TRANSITIONS = {
  PAUSED: { from: ['ACTIVE', 'PAUSED'], verb: 'paused' },
  ACTIVE: { from: ['ACTIVE', 'PAUSED'], verb: 'resumed' },
  REVOKED: { from: ['ACTIVE', 'PAUSED', 'REVOKED'], verb: 'revoked' },
} as const;

/** Pause, resume or revoke; idempotent (pausing a paused certificate leaves it paused). */
export async function changeCertificateStatus(deps: ProductCertificateDeps, current: ProductCertificateRow, status: keyof typeof TRANSITIONS): Promise<ProductCertificateRow> {
  const transition = TRANSITIONS[status];
  if (current.status === status) return current;
  if (!(transition.from as readonly string[]).includes(current.status)) {
    throw failedPrecondition(`product certificate ${current.id} is ${current.status.toLowerCase()}; it cannot be ${transition.verb}`);
  }
  const row = await updateProductCertificate(deps.db, current.id, transition.from, { status, updatedAt: nowMs() });
  if (row) return row;
  const now = await findProductCertificate(deps.db, current.id);
  if (!now) throw notFound(`no product certificate ${current.id}`);
  throw failedPrecondition(`product certificate ${current.id} is ${now.status.toLowerCase()}; it cannot be ${transition.verb}`);
}

/** A UUID in its canonical form (Mintall's image ids). */
export function parseImageId(value: string, field = 'image_id'): string {
  const id = value.trim().toLowerCase();
  if (id === '') throw invalidArgument(`${field} is required`);
  if (!isImageId(id)) throw invalidArgument(`${field} must be a UUID such as 5b749adb-f198-428f-a7af-4323f9c16297, got "${value.slice(0, 80)}"`);
  return id;
}

export function isImageId(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value);
}
