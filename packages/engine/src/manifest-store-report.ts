import { invalidArgument } from '@c2pa-mesh/errors';
import type { IngredientSummary, ManifestStoreReport, ValidationState, ValidationStatusEntry } from './types.js';

/**
 * Facts about the active signature that c2pa-rs's manifest store JSON leaves out (the issuer of
 * the signing certificate, the time-stamp's time), taken from its crJSON report.
 */
export interface SignatureDetails {
  issuer?: string;
  timeStampedAt?: string;
  /** SHA-256 (base64) of the signing certificate's DER. */
  signingCertificateSha256?: string;
  /** The active manifest's COSE_Sign1, exactly as in its `c2pa.signature` box. */
  claimSignature?: Uint8Array;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function statusEntries(list: unknown): ValidationStatusEntry[] {
  if (!Array.isArray(list)) return [];
  return list.filter(isObject).flatMap((entry) => {
    const code = str(entry.code);
    if (code === undefined) return [];
    const url = str(entry.url);
    const explanation = str(entry.explanation);
    return [{ code, ...(url !== undefined ? { url } : {}), ...(explanation !== undefined ? { explanation } : {}) }];
  });
}

const entryKey = (e: ValidationStatusEntry) => `${e.code}\u0000${e.url ?? ''}\u0000${e.explanation ?? ''}`;

function unique(entries: ValidationStatusEntry[]): ValidationStatusEntry[] {
  const seen = new Set<string>();
  return entries.filter((e) => {
    const key = entryKey(e);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Summarises a manifest store as c2pa-rs reports it (`Reader::json`): the validation state, the
 * status entries split the way c2pa-rs splits them (failure → errors, informational → warnings,
 * success → successes, for the active manifest and every ingredient delta), and who signed when.
 */
export function summarizeManifestStore(
  manifestStoreJson: string,
  signature: SignatureDetails = {},
  /** The format the asset was read as: claim v2 manifests no longer name it. */
  assetFormat?: string,
): ManifestStoreReport {
  let store: unknown;
  try {
    store = JSON.parse(manifestStoreJson);
  } catch (cause) {
    throw invalidArgument('the manifest store is not valid JSON', { cause });
  }
  if (!isObject(store)) throw invalidArgument('the manifest store is not a JSON object');

  const errors: ValidationStatusEntry[] = [];
  const warnings: ValidationStatusEntry[] = [];
  const successes: ValidationStatusEntry[] = [];
  const results = store.validation_results;
  if (isObject(results)) {
    const groups: unknown[] = [results.activeManifest];
    if (Array.isArray(results.ingredientDeltas)) {
      for (const delta of results.ingredientDeltas) if (isObject(delta)) groups.push(delta.validationDeltas);
    }
    for (const group of groups) {
      if (!isObject(group)) continue;
      errors.push(...statusEntries(group.failure));
      warnings.push(...statusEntries(group.informational));
      successes.push(...statusEntries(group.success));
    }
  }
  // Older stores, or a store read without results, only carry the flat list of problems.
  const flat = statusEntries(store.validation_status);
  const known = new Set([...errors, ...warnings, ...successes].map(entryKey));
  errors.push(...flat.filter((e) => !known.has(entryKey(e))));

  const activeManifestLabel = str(store.active_manifest);
  const manifests = isObject(store.manifests) ? store.manifests : {};
  const active = activeManifestLabel !== undefined && isObject(manifests[activeManifestLabel]) ? (manifests[activeManifestLabel] as Json) : undefined;
  const signatureInfo = active !== undefined && isObject(active.signature_info) ? active.signature_info : undefined;

  const report: ManifestStoreReport = {
    manifestStoreJson,
    validationState: validationState(store.validation_state, errors),
    errors: unique(errors),
    warnings: unique(warnings),
    successes: unique(successes),
    ingredients: activeManifestLabel === undefined ? [] : ingredientChain(manifests, activeManifestLabel, failingDeltas(results)),
  };
  if (activeManifestLabel !== undefined) report.activeManifestLabel = activeManifestLabel;
  if (signature.claimSignature !== undefined) report.claimSignature = signature.claimSignature;
  if (signatureInfo !== undefined) {
    const signer = {
      commonName: str(signatureInfo.common_name),
      // c2pa-rs calls the signing certificate's subject organisation "issuer".
      organization: str(signatureInfo.issuer),
      issuer: signature.issuer,
      certificateSerialNumber: serialAsHex(str(signatureInfo.cert_serial_number)),
      algorithm: str(signatureInfo.alg)?.toLowerCase(),
      certificateSha256: signature.signingCertificateSha256,
    };
    report.signer = Object.fromEntries(Object.entries(signer).filter(([, v]) => v !== undefined));
    // c2pa-rs puts the time-stamp's time here when the signature has one; without a time-stamp
    // there is no trustworthy signing time and c2pa-rs reports none.
    const signedAt = signature.timeStampedAt ?? str(signatureInfo.time);
    if (signedAt !== undefined) report.signedAt = signedAt;
  }
  if (active !== undefined) {
    const claimGenerator = str(active.claim_generator) ?? claimGeneratorFromInfo(active.claim_generator_info);
    if (claimGenerator !== undefined) report.claimGenerator = claimGenerator;
    const title = str(active.title);
    if (title !== undefined) report.title = title;
    const format = str(active.format) ?? assetFormat;
    if (format !== undefined) report.format = format;
  }
  return report;
}

/** Ingredient assertion URI → whether the reader found failures in that ingredient now. */
function failingDeltas(results: unknown): Set<string> {
  const failing = new Set<string>();
  if (!isObject(results) || !Array.isArray(results.ingredientDeltas)) return failing;
  for (const delta of results.ingredientDeltas) {
    if (!isObject(delta) || typeof delta.ingredientAssertionURI !== 'string' || !isObject(delta.validationDeltas)) continue;
    if (statusEntries(delta.validationDeltas.failure).length > 0) failing.add(delta.ingredientAssertionURI);
  }
  return failing;
}

/** Codes of checks that passed, in the flat `validation_status` list of older ingredients. */
const PASSED_CODE = /\.(validated|match|trusted|insideValidity|notRevoked|skipped)$/;

/** The state an ingredient records for its manifest (v3 `validation_results`, or the older flat list). */
function recordedState(ingredient: Json): ValidationState {
  const recorded = isObject(ingredient.validation_results) && isObject(ingredient.validation_results.activeManifest) ? ingredient.validation_results.activeManifest : undefined;
  const failures = recorded !== undefined ? statusEntries(recorded.failure) : statusEntries(ingredient.validation_status).filter((e) => !PASSED_CODE.test(e.code));
  if (failures.some((e) => e.code !== 'signingCredential.untrusted')) return 'Invalid';
  const trusted = recorded !== undefined ? statusEntries(recorded.success).some((e) => e.code === 'signingCredential.trusted') : statusEntries(ingredient.validation_status).some((e) => e.code === 'signingCredential.trusted');
  return trusted && failures.length === 0 ? 'Trusted' : 'Valid';
}

/** The longest chain followed; a store is bounded in size, but a crafted one may nest deeply. */
const MAX_INGREDIENT_DEPTH = 32;

/**
 * The provenance chain: the ingredients of the manifest labelled `label`, each followed by the
 * ingredients of its own manifest (depth first). A manifest is followed once, so a store whose
 * ingredients point back at each other cannot loop.
 */
function ingredientChain(manifests: Json, label: string, failing: ReadonlySet<string>): IngredientSummary[] {
  const chain: IngredientSummary[] = [];
  const followed = new Set<string>();
  const walk = (manifestLabel: string, depth: number) => {
    if (followed.has(manifestLabel) || depth > MAX_INGREDIENT_DEPTH) return;
    followed.add(manifestLabel);
    const manifest = manifests[manifestLabel];
    if (!isObject(manifest) || !Array.isArray(manifest.ingredients)) return;
    for (const ingredient of manifest.ingredients.filter(isObject)) {
      const own = str(ingredient.active_manifest);
      const ownManifest = own !== undefined && isObject(manifests[own]) ? (manifests[own] as Json) : undefined;
      const signatureInfo = ownManifest !== undefined && isObject(ownManifest.signature_info) ? ownManifest.signature_info : undefined;
      const summary: IngredientSummary = { parentManifestLabel: manifestLabel, relationship: str(ingredient.relationship) ?? 'componentOf' };
      const title = str(ingredient.title) ?? (ownManifest !== undefined ? str(ownManifest.title) : undefined);
      if (title !== undefined) summary.title = title;
      const format = str(ingredient.format) ?? (ownManifest !== undefined ? str(ownManifest.format) : undefined);
      if (format !== undefined) summary.format = format;
      if (own !== undefined) {
        summary.activeManifestLabel = own;
        const signer = signatureInfo !== undefined ? str(signatureInfo.common_name) ?? str(signatureInfo.issuer) : undefined;
        if (signer !== undefined) summary.signer = signer;
        const uri = `self#jumbf=/c2pa/${manifestLabel}/c2pa.assertions/${str(ingredient.label) ?? ''}`;
        summary.validationState = failing.has(uri) ? 'Invalid' : recordedState(ingredient);
      }
      chain.push(summary);
      if (own !== undefined) walk(own, depth + 1);
    }
  };
  walk(label, 0);
  return chain;
}

/** c2pa-rs prints serial numbers in decimal; certificate authorities (ours too) speak hex. */
function serialAsHex(serial: string | undefined): string | undefined {
  if (serial === undefined || !/^\d+$/.test(serial)) return serial;
  return BigInt(serial).toString(16);
}

/** Claim v2 has no claim_generator string; c2pa-rs writes "name/version" for v1, so do the same. */
function claimGeneratorFromInfo(info: unknown): string | undefined {
  if (!Array.isArray(info)) return undefined;
  const parts = info.filter(isObject).flatMap((g) => {
    const name = str(g.name);
    if (name === undefined) return [];
    const version = str(g.version);
    return [version === undefined ? name : `${name}/${version}`];
  });
  return parts.length > 0 ? parts.join(' ') : undefined;
}

function validationState(state: unknown, errors: ValidationStatusEntry[]): ValidationState {
  if (state === 'Invalid' || state === 'Valid' || state === 'Trusted') return state;
  // Without a state from the engine, any failure but an untrusted credential makes it Invalid.
  return errors.some((e) => e.code !== 'signingCredential.untrusted') ? 'Invalid' : 'Valid';
}

/** The signing certificate's issuer and the time-stamp time of the active manifest, from crJSON. */
export function signatureDetailsFromCrJson(crJson: string, activeManifestLabel: string | undefined): SignatureDetails {
  let report: unknown;
  try {
    report = JSON.parse(crJson);
  } catch {
    return {};
  }
  if (!isObject(report) || !Array.isArray(report.manifests)) return {};
  const manifest = report.manifests.filter(isObject).find((m) => m.label === activeManifestLabel);
  if (manifest === undefined || !isObject(manifest.signature)) return {};
  const certificateInfo = isObject(manifest.signature.certificateInfo) ? manifest.signature.certificateInfo : undefined;
  const issuerName = certificateInfo !== undefined && isObject(certificateInfo.issuer) ? certificateInfo.issuer : undefined;
  const timeStampInfo = isObject(manifest.signature.timeStampInfo) ? manifest.signature.timeStampInfo : undefined;
  const details: SignatureDetails = {};
  const issuer = issuerName !== undefined ? str(issuerName.CN) ?? str(issuerName.O) : undefined;
  if (issuer !== undefined) details.issuer = issuer;
  const timeStampedAt = timeStampInfo !== undefined ? str(timeStampInfo.timestamp) : undefined;
  if (timeStampedAt !== undefined) details.timeStampedAt = timeStampedAt;
  return details;
}
