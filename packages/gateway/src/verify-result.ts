import { verificationV1 } from '@c2pa-mesh/proto';

type VerifyResponse = verificationV1.VerifyResponse;
const { ValidationState } = verificationV1;

const STATE_NAMES: Record<number, 'Invalid' | 'Valid' | 'Trusted'> = {
  [ValidationState.INVALID]: 'Invalid',
  [ValidationState.VALID]: 'Valid',
  [ValidationState.TRUSTED]: 'Trusted',
};

function parseJson(text: string): Record<string, unknown> | null {
  if (text === '') return null;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * A Verify result in MirrorStage's `/v1/verify` shape (validation_state, valid, trusted,
 * manifest, signer, timestamp, validation_errors, validation_warnings as status codes), with the
 * mesh's further facts beside it.
 */
export function mirrorStageVerifyResult(result: VerifyResponse) {
  return {
    validation_state: STATE_NAMES[result.validationState] ?? 'Invalid',
    valid: result.valid,
    trusted: result.trusted,
    manifest: parseJson(result.manifestStoreJson),
    signer: result.signer || null,
    timestamp: result.signedAt || null,
    validation_errors: result.errors.map((e) => e.code),
    validation_warnings: result.warnings.map((e) => e.code),
    // Beyond MirrorStage's shape: the entries in full, and what the registry knows.
    validation_status: {
      errors: result.errors.map(({ code, url, explanation }) => ({ code, url, explanation })),
      warnings: result.warnings.map(({ code, url, explanation }) => ({ code, url, explanation })),
      successes: result.successes.map(({ code, url, explanation }) => ({ code, url, explanation })),
    },
    active_manifest: result.activeManifestLabel || null,
    claim_generator: result.claimGenerator || null,
    title: result.title || null,
    format: result.format || null,
    asset_sha256: result.assetSha256,
    registered: result.registered,
    asset_id: result.assetId || null,
    certificate_status: result.certificateStatus || null,
    // The provenance chain: the ingredients of the active manifest, and theirs in turn.
    ingredients: result.ingredients.map((i) => ({
      title: i.title || null,
      relationship: i.relationship,
      active_manifest: i.activeManifestLabel || null,
      signer: i.signer || null,
      validation_state: STATE_NAMES[i.validationState] ?? null,
      format: i.format || null,
      parent_manifest: i.parentManifestLabel,
    })),
    request_id: result.requestId,
  };
}
