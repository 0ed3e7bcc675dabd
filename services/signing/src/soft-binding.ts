import { fingerprintText, signingFingerprint, withSoftBindingAssertion } from '@c2pa-mesh/soft-binding';

/**
 * The soft binding of an asset being signed: its fingerprint (images only) goes into the manifest
 * as a `c2pa.soft-binding` assertion, into the registry with the manifest store (the manifest
 * repository), and back to the caller. Computed before the engine gets the asset, because the
 * assertion is part of what is signed; the pixels do not change by signing, so it holds for the
 * signed asset too.
 */
export interface SoftBindingPlan {
  /** The manifest definition to sign: the caller's, plus the soft-binding assertion if any. */
  manifestJson: string;
  /** `ISCC:EEA…`, or '' when the asset is not fingerprinted. */
  text: string;
  /** RegisterAssetRequest fields for the signed result. */
  registration(manifestStore: Uint8Array): { softBindings: Array<{ alg: string; value: Uint8Array }>; manifestStore: Uint8Array };
}

export async function planSoftBinding(format: string, asset: Uint8Array, manifestJson: string): Promise<SoftBindingPlan> {
  const fingerprint = await signingFingerprint(format, asset);
  return {
    manifestJson: fingerprint === undefined ? manifestJson : withSoftBindingAssertion(manifestJson, fingerprint),
    text: fingerprint === undefined ? '' : fingerprintText(fingerprint),
    registration: (manifestStore) => ({
      softBindings: fingerprint === undefined ? [] : [{ alg: fingerprint.alg, value: fingerprint.value }],
      manifestStore,
    }),
  };
}
