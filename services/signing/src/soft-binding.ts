import { randomUUID } from 'node:crypto';
import { invalidArgument } from '@c2pa-mesh/errors';
import { fingerprintText, signingFingerprint, withSoftBindingAssertion, type Fingerprint } from '@c2pa-mesh/soft-binding';

/**
 * The soft binding of an asset being signed: its fingerprint (images only) goes into the manifest
 * as a `c2pa.soft-binding` assertion, into the registry with the manifest store (the manifest
 * repository), and back to the caller. Computed before the engine gets the asset, because the
 * assertion is part of what is signed; the pixels do not change by signing, so it holds for the
 * signed asset too. With a remote manifest, the manifest's label is fixed here so that the URL
 * written into the asset can name it.
 */
export interface SoftBindingPlan {
  /** The manifest definition to sign: the caller's, plus the soft-binding assertion if any. */
  manifestJson: string;
  /** `ISCC:EEA…`, or '' when the asset is not fingerprinted. */
  text: string;
  /** `<public URL>/sbr/v1/manifests/<label>` when a remote manifest was asked for. */
  remoteManifestUrl?: string;
  /** RegisterAssetRequest fields for the signed result. */
  registration(manifestStore: Uint8Array): { softBindings: Array<{ alg: string; value: Uint8Array }>; manifestStore: Uint8Array };
}

const MANIFEST_LABEL = /^urn:c2pa:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(:[^/\s]*)?$/i;

/** The definition with a label (the caller's, or a new `urn:c2pa:<uuid>`), and that label. */
function labelled(manifestJson: string): { manifestJson: string; label: string } {
  const definition = JSON.parse(manifestJson) as { label?: unknown };
  if (definition.label === undefined) definition.label = `urn:c2pa:${randomUUID()}`;
  if (typeof definition.label !== 'string' || !MANIFEST_LABEL.test(definition.label)) {
    throw invalidArgument('manifest_json.label must be "urn:c2pa:<uuid>" for a remote manifest (or be left out)', { details: { field: 'manifest_json.label' } });
  }
  return { manifestJson: JSON.stringify(definition), label: definition.label };
}

/**
 * `started`: `signingFingerprint(format, asset)` when the caller started it already (its pixel
 * work runs on libvips threads meanwhile; it never rejects).
 */
export async function planSoftBinding(
  format: string,
  asset: Uint8Array,
  manifestJson: string,
  remoteBaseUrl?: string,
  started: Promise<Fingerprint | undefined> = signingFingerprint(format, asset),
): Promise<SoftBindingPlan> {
  const fingerprint = await started;
  let definition = fingerprint === undefined ? manifestJson : withSoftBindingAssertion(manifestJson, fingerprint);
  let remoteManifestUrl: string | undefined;
  if (remoteBaseUrl !== undefined) {
    const named = labelled(definition);
    definition = named.manifestJson;
    remoteManifestUrl = `${remoteBaseUrl}/sbr/v1/manifests/${encodeURIComponent(named.label)}`;
  }
  return {
    manifestJson: definition,
    text: fingerprint === undefined ? '' : fingerprintText(fingerprint),
    ...(remoteManifestUrl === undefined ? {} : { remoteManifestUrl }),
    registration: (manifestStore) => ({
      softBindings: fingerprint === undefined ? [] : [{ alg: fingerprint.alg, value: fingerprint.value }],
      manifestStore,
    }),
  };
}
