import { create } from '@bufbuild/protobuf';
import type { Identity } from '@c2pa-mesh/auth';
import { planIntent, type SignIntent } from '@c2pa-mesh/engine';
import { dependencyError, retryOnceWhenCut, MeshError } from '@c2pa-mesh/errors';
import { signingV1 } from '@c2pa-mesh/proto';
import type { Fingerprint } from '@c2pa-mesh/soft-binding';
import type { SigningContext } from './deps.js';
import { createMeshClaimSigner } from './claim-signer.js';
import { prepareManifestDefinition, type ManifestWarning, type PreparedManifest } from './manifest-definition.js';
import { MAX_TITLE_LENGTH, registryLabels, signableFormat, type RegistryLabels } from './sign-request-rules.js';
import { resolveSigningCredentials, type SigningCredentials } from './signing-credentials.js';
import { intentToProto, requestedIntent } from './sign-intent.js';
import { logClaimSignature, type LoggedSignature } from './transparency-log.js';
import { planSoftBinding } from './soft-binding.js';

/**
 * Signing a media file, shared by Sign and SignStream: the request is checked and its signer
 * resolved first (nothing is signed or written for a request that cannot succeed), then the
 * engine embeds the manifest while the CA signs, time-stamps and vouches for the signer, and the
 * result is registered.
 */

/** SignRequest / SignStreamOptions without the asset. */
export interface AssetSigningOptions {
  format: string;
  manifestJson: string;
  signerId: string;
  title: string;
  tags: readonly string[];
  projectId: string;
  /** Unset or unspecified: `auto`. */
  intent?: signingV1.SignIntent;
  /** Reference the manifest store remotely too (SignRequest.remote_manifest). */
  remoteManifest?: boolean;
}

/** Checked options: what can be said about a request without asking another service. */
export interface CheckedSigningOptions {
  format: string;
  manifest: PreparedManifest;
  labels: RegistryLabels;
  /** The requested intent; `auto` is decided by the engine once it has the asset. */
  intent: SignIntent | 'auto';
  options: AssetSigningOptions;
}

export interface AssetSigningPlan extends CheckedSigningOptions, SigningCredentials {
  /** Trust anchors for validating a parent ingredient (edit, update); undefined for new content. */
  trustAnchorsPem?: string;
}

export interface SignedAsset {
  signedAsset: Uint8Array;
  manifestStoreJson: string;
  activeManifestLabel: string;
  assetSha256: string;
  inputSha256: string;
  assetId: string;
  signerId: string;
  certificateId: string;
  /** RFC 3339 UTC: the time-stamp's genTime. */
  signedAt: string;
  format: string;
  /** What was completed in the manifest before signing (SignResponse.warnings). */
  warnings: ManifestWarning[];
  /** The intent the manifest was made with; undefined: the caller's own parent, signed as given. */
  intent?: SignIntent;
  /** The claim signature's place in the transparency log. */
  log: LoggedSignature;
  /** The fingerprint signed in as a soft binding (`ISCC:…`); '' when none. */
  softBinding: string;
  /** The remote manifest reference written into the asset; '' when none. */
  manifestUrl: string;
}

/** The response fields Sign and SignStream share (everything but the signed bytes themselves). */
export function signResultFields(signed: SignedAsset, call: { requestId: string; startedAt: number }) {
  return {
    manifestStoreJson: signed.manifestStoreJson,
    activeManifestLabel: signed.activeManifestLabel,
    assetSha256: signed.assetSha256,
    assetId: signed.assetId,
    requestId: call.requestId,
    durationMs: BigInt(Math.round(performance.now() - call.startedAt)),
    inputSha256: signed.inputSha256,
    signerId: signed.signerId,
    certificateId: signed.certificateId,
    sizeBytes: BigInt(signed.signedAsset.length),
    signedAt: signed.signedAt,
    format: signed.format,
    warnings: signed.warnings.map((warning) => create(signingV1.SigningWarningSchema, warning)),
    intent: intentToProto(signed.intent),
    ...signed.log,
    softBinding: signed.softBinding,
    manifestUrl: signed.manifestUrl,
  };
}

/** Format, manifest definition, title and tags: the checks that need nothing but the request. */
export function checkSigningOptions(options: AssetSigningOptions): CheckedSigningOptions {
  const format = signableFormat(options.format);
  const labels = registryLabels(options.title, options.tags);
  const manifest = prepareManifestDefinition(options.manifestJson, { title: labels.title });
  const intent = requestedIntent(options.intent ?? signingV1.SignIntent.UNSPECIFIED);
  // An explicit intent the manifest cannot take is refused here, before the asset (SignStream)
  // and the signer are even looked at; `auto` depends on the asset.
  if (intent !== 'auto') planIntent(manifest.json, intent, intentOptions(manifest));
  return { format, manifest, labels, intent, options };
}

export const intentOptions = (manifest: PreparedManifest) =>
  manifest.defaultDigitalSourceType === undefined ? {} : { defaultDigitalSourceType: manifest.defaultDigitalSourceType };

/** The project, the signer and its OCSP staple: everything a signature needs before the asset. */
export async function planAssetSigning(deps: SigningContext, identity: Identity, checked: CheckedSigningOptions): Promise<AssetSigningPlan> {
  const [credentials, trustAnchorsPem] = await Promise.all([
    resolveSigningCredentials(deps, identity, checked.options),
    checked.intent === 'create' ? undefined : deps.ingredientTrust.anchorsPem(),
  ]);
  return { ...checked, ...credentials, ...(trustAnchorsPem === undefined ? {} : { trustAnchorsPem }) };
}

/** Signs `asset` as planned and registers the result. */
export async function signPlannedAsset(
  deps: SigningContext,
  plan: AssetSigningPlan,
  asset: Uint8Array,
  call: {
    requestId: string;
    signal?: AbortSignal;
    /** Who asks (the identity's id): the engine takes turns between projects and their callers. */
    caller: string;
    /**
     * An asset received for this call alone, already hashed: its memory moves to the engine's
     * worker instead of being copied (`asset` is unusable afterwards).
     */
    handOver?: { inputSha256: string };
    /**
     * The asset's buffer is this request's own (mayMoveRequestBytes): it moves to the engine's
     * worker instead of being copied, and is hashed there (`asset` is unusable afterwards).
     */
    moveAsset?: boolean;
    /** The asset's fingerprint, when the caller started it (signingFingerprint). */
    fingerprint?: Promise<Fingerprint | undefined>;
  },
): Promise<SignedAsset> {
  const claimSigner = createMeshClaimSigner(deps.clients, plan.signer, plan.ocspResponse);
  // Before the engine: the asset may move to its worker.
  const softBinding = await planSoftBinding(plan.format, asset, plan.manifest.json, plan.options.remoteManifest === true ? deps.config.publicUrl : undefined, call.fingerprint);
  const result = await deps.engine.sign({
    format: plan.format,
    asset,
    manifestDefinition: softBinding.manifestJson,
    ...(softBinding.remoteManifestUrl === undefined ? {} : { remoteManifestUrl: softBinding.remoteManifestUrl }),
    intent: plan.intent,
    ...intentOptions(plan.manifest),
    ...(plan.trustAnchorsPem === undefined ? {} : { trustAnchorsPem: plan.trustAnchorsPem }),
    signer: claimSigner,
    signal: call.signal,
    fairness: { tenant: plan.project.projectId, caller: call.caller },
    transferAsset: call.handOver !== undefined || (call.moveAsset === true && 'buffer'),
    // Both hashes come from the engine's worker, which has the bytes anyway; an upload was
    // hashed as it arrived.
    hashInput: call.handOver === undefined,
  });
  const inputSha256 = call.handOver?.inputSha256 ?? result.inputSha256;
  const timeStamp = claimSigner.timeStamp;
  if (timeStamp === undefined) throw new MeshError('internal', 'the engine produced a signed asset without asking for a signature');
  if (inputSha256 === undefined) throw new MeshError('internal', 'the engine did not hash the asset it was given');
  const assetSha256 = result.signedAssetSha256;
  const signedAt = timeStamp.genTime.toISOString();
  const log = await logClaimSignature(deps, claimSigner.claimSignature);

  const assetId = await registerSignedAsset(deps, plan, {
    assetSha256,
    inputSha256,
    sizeBytes: result.signedAsset.length,
    manifestLabel: result.activeManifestLabel,
    requestId: call.requestId,
    signedAt,
    logIndex: log.logIndex,
    repository: softBinding.registration(result.manifestStore),
  });
  return {
    signedAsset: result.signedAsset,
    manifestStoreJson: result.manifestStoreJson,
    activeManifestLabel: result.activeManifestLabel,
    assetSha256,
    inputSha256,
    assetId,
    signerId: plan.signer.signerId,
    certificateId: plan.signer.certificateId,
    signedAt,
    format: plan.format,
    warnings: plan.manifest.warnings,
    ...(result.intent === undefined ? {} : { intent: result.intent }),
    log,
    softBinding: softBinding.text,
    manifestUrl: softBinding.remoteManifestUrl ?? '',
  };
}

/** Records a signed asset in the registry; returns its asset id. Nothing is returned to the caller without it. */
export async function registerSignedAsset(
  deps: SigningContext,
  plan: AssetSigningPlan,
  signed: {
    assetSha256: string;
    inputSha256: string;
    sizeBytes: number;
    manifestLabel: string;
    requestId: string;
    signedAt: string;
    logIndex?: bigint;
    /** The manifest repository's copy of the store, and the fingerprints signed into the asset. */
    repository?: { softBindings: Array<{ alg: string; value: Uint8Array }>; manifestStore: Uint8Array };
  },
): Promise<string> {
  const { asset: registered } = await retryOnceWhenCut(() =>
    deps.clients.registry.registerAsset({
      projectId: plan.project.projectId,
      kind: 'ASSET',
      assetSha256: signed.assetSha256,
      inputSha256: signed.inputSha256,
      format: plan.format,
      sizeBytes: BigInt(signed.sizeBytes),
      signerId: plan.signer.signerId,
      certificateId: plan.signer.certificateId,
      manifestLabel: signed.manifestLabel,
      requestId: signed.requestId,
      // A manifest title may be longer than the registry keeps; the manifest has it whole.
      title: (plan.labels.title || plan.manifest.title || '').slice(0, MAX_TITLE_LENGTH),
      tags: plan.labels.tags,
      signedAt: signed.signedAt,
      ...(signed.logIndex === undefined ? {} : { logIndex: signed.logIndex }),
      ...signed.repository,
    }),
  ).catch((error: unknown) => {
    throw dependencyError(error, 'the asset was signed but the registry did not record it, so it is not returned; retry the request', { keep: ['failed_precondition', 'not_found'] });
  });
  if (registered === undefined || registered.assetId === '') {
    throw new MeshError('unavailable', 'the asset was signed but the registry returned no asset id, so it is not returned; retry the request');
  }
  return registered.assetId;
}
