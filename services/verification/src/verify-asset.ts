import { createHash, webcrypto } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { createDeadline, type ManifestStoreReport, type ValidationStatusEntry } from '@c2pa-mesh/engine';
import { MeshError, callDependency, isMeshError } from '@c2pa-mesh/errors';
import { verificationV1 } from '@c2pa-mesh/proto';
import { assetFormat } from './asset-format.js';
import type { LiveCertificateStatus } from './certificate-status.js';
import type { VerificationServiceDeps } from './routes.js';
import { logStandingOf } from './transparency-log.js';
import { matchesForStrippedAsset } from './soft-binding-matches.js';
import { openFileSource, verifyFromSource } from '@c2pa-mesh/c2pa-stream';

const { ValidationState } = verificationV1;

/** Which RPC verified: recorded with every verification (VerificationRecord.source). */
export type VerificationSource = 'BYTES' | 'STREAM' | 'URL' | 'BATCH';

/** Who asks, for the record, and when to give up. */
export interface VerificationCall {
  requestId: string;
  projectId?: string;
  /** Who asks (the identity's id): the engine takes turns between projects and their callers. */
  caller?: string;
  /** Aborted when the caller goes away. */
  signal?: AbortSignal;
  /** performance.now() when the request arrived: duration_ms counts from here (default: now). */
  startedAt?: number;
}

export const STATE_BY_ENGINE = {
  Invalid: ValidationState.INVALID,
  Valid: ValidationState.VALID,
  Trusted: ValidationState.TRUSTED,
} as const;

export const STATE_NAMES: Record<number, 'INVALID' | 'VALID' | 'TRUSTED'> = {
  [ValidationState.INVALID]: 'INVALID',
  [ValidationState.VALID]: 'VALID',
  [ValidationState.TRUSTED]: 'TRUSTED',
};

export function sha256Of(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Up to this size an asset is hashed at once (native SHA-256, about 0.6 ms per MiB). */
const HASH_INLINE_MAX_BYTES = 4 * 1024 * 1024;

/**
 * `sha256:<hex>` of an asset: small ones right here, which costs less than handing them over;
 * larger ones on libuv's thread pool (WebCrypto), so the event loop that serves RPCs is not held
 * for the tens of milliseconds a 100 MB asset takes.
 */
async function assetSha256Of(bytes: Uint8Array): Promise<string> {
  if (bytes.byteLength <= HASH_INLINE_MAX_BYTES) return sha256Of(bytes);
  const digest = await webcrypto.subtle.digest('SHA-256', bytes);
  return `sha256:${Buffer.from(digest).toString('hex')}`;
}

/** RFC 3339 UTC, as every time in the API; c2pa-rs writes offsets such as `+00:00`. */
export function utc(time: string | undefined): string {
  if (time === undefined || time === '') return '';
  const parsed = new Date(time);
  return Number.isNaN(parsed.getTime()) ? time : parsed.toISOString();
}

const statuses = (entries: ValidationStatusEntry[]) =>
  entries.map((e) => create(verificationV1.ValidationStatusSchema, { code: e.code, url: e.url ?? '', explanation: e.explanation ?? '' }));

/**
 * Runs the engine with the trust configuration in force, bounded in time: one hostile or huge
 * file cannot hold a worker (or the caller) longer than the service's limit.
 */
export async function readManifestStore(deps: VerificationServiceDeps, asset: Uint8Array, format: string, call: VerificationCall): Promise<ManifestStoreReport | null> {
  const trust = await deps.trust.current();
  const deadline = createDeadline(call.signal, deps.settings.verifyTimeoutMs);
  try {
    return await deps.engine.read({ format, asset, ...trust, signal: deadline.signal, fairness: { tenant: call.projectId ?? '', caller: call.caller ?? '' } });
  } catch (error) {
    if (isMeshError(error)) throw error;
    if (deadline.expired) {
      throw new MeshError(
        'deadline_exceeded',
        `verification did not finish within ${deps.settings.verifyTimeoutMs} ms; the asset may be too large or malformed, or the service is busy`,
        { cause: error },
      );
    }
    if (call.signal?.aborted) throw new ConnectError('the caller cancelled the verification', Code.Canceled);
    throw error;
  } finally {
    deadline.release();
  }
}

async function lookupRegistered(deps: VerificationServiceDeps, assetSha256: string) {
  const found = await callDependency('the registry could not look the asset up', () => deps.clients.registry.lookupAssetByHash({ contentHash: assetSha256 }));
  return found.found && found.asset !== undefined ? found.asset : undefined;
}

/**
 * The live status of the certificate that signed the asset. For an asset in the registry the
 * status of the certificate recorded with it was asked for while the engine worked; it stands
 * only if that is byte for byte the certificate in the signature. Otherwise the CA is asked by
 * the signature's serial number.
 */
async function liveStatusOf(
  deps: VerificationServiceDeps,
  signer: NonNullable<ManifestStoreReport['signer']>,
  prefetched: Promise<LiveCertificateStatus | undefined>,
): Promise<LiveCertificateStatus> {
  const recorded = await prefetched;
  if (recorded?.certificateSha256 !== undefined && recorded.certificateSha256 === signer.certificateSha256) return recorded;
  return deps.certificateStatus.bySerial(signer);
}

/** Stores the verification in the registry's history (ListVerifications reads it back). */
export async function recordVerification(
  deps: VerificationServiceDeps,
  call: VerificationCall,
  record: { assetSha256: string; state: number; format: string; signer: string; source: string; errors: Array<{ code: string }> },
): Promise<void> {
  await callDependency('the registry could not record the verification', () =>
    deps.clients.registry.recordVerification({
      assetSha256: record.assetSha256,
      validationState: STATE_NAMES[record.state],
      format: record.format,
      signer: record.signer,
      projectId: call.projectId ?? '',
      requestId: call.requestId,
      verifiedAt: new Date().toISOString(),
      source: record.source,
      errorCount: record.errors.length,
      firstErrorCode: record.errors[0]?.code ?? '',
    }),
  );
}

/**
 * Full verification of one asset: format check, C2PA validation by the engine against the trust
 * configuration, the signing certificate's live status at our CA, whether the registry knows the
 * asset; recorded in the verification history. No manifest → not_found; unreadable, truncated or
 * hostile bytes → invalid_argument (or failed_precondition) with the engine's reason in words.
 */
export async function verifyAsset(
  deps: VerificationServiceDeps,
  call: VerificationCall,
  item: { asset: Uint8Array; format: string; source: VerificationSource },
): Promise<verificationV1.VerifyResponse> {
  const startedAt = call.startedAt ?? performance.now();
  const format = assetFormat(item.format, item.asset);
  // Together: the engine on its worker, then the hash, then the registry lookup, which needs only
  // the hash, while the engine still works. The hash waits for the event loop's next turn so that
  // the asset is on its way to the engine first.
  const reading = readManifestStore(deps, item.asset, format, call);
  const hashing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => assetSha256Of(item.asset));
  const registered = hashing.then((hash) => lookupRegistered(deps, hash));
  // Only a head start: a failure here is met again, and reported, by the lookup by serial.
  const prefetched = registered.then(
    (asset) => (asset?.certificateId ? deps.certificateStatus.byId(asset.certificateId) : undefined),
    () => undefined,
  ).catch(() => undefined);
  const [report, assetSha256, registeredAsset] = await Promise.all([reading, hashing, registered]);
  if (report === null) {
    // Stripped of its metadata? Its content may still match an asset the mesh signed.
    const softBindingMatches = await matchesForStrippedAsset(deps, item.asset, format, call.projectId);
    if (softBindingMatches.length > 0) return strippedAssetResponse(call, { assetSha256, format, startedAt, softBindingMatches });
  }
  return answer(deps, call, { report, assetSha256, assetId: registeredAsset?.assetId, prefetched, format, source: item.source, startedAt });
}

/**
 * A large asset verified from the file it was spooled to, never whole in memory: the engine
 * judges its manifest store alone and the hard binding is recomputed from the file in pieces
 * (packages/c2pa-stream). The SHA-256 was computed while the upload was written.
 */
export async function verifySpooledAsset(
  deps: VerificationServiceDeps,
  call: VerificationCall,
  item: { path: string; sha256: string; format: string; source: VerificationSource },
): Promise<verificationV1.VerifyResponse> {
  const startedAt = call.startedAt ?? performance.now();
  const registered = lookupRegistered(deps, item.sha256);
  const prefetched = registered.then(
    (asset) => (asset?.certificateId ? deps.certificateStatus.byId(asset.certificateId) : undefined),
    () => undefined,
  ).catch(() => undefined);
  // Awaited below; a failure while the file is read must not leave it unhandled meanwhile.
  registered.catch(() => undefined);
  const file = await openFileSource(item.path);
  let report: ManifestStoreReport | null;
  try {
    report = await verifyFromSource(file, item.format, (store) => readManifestStore(deps, store, 'application/c2pa', call));
  } finally {
    await file.close();
  }
  const registeredAsset = await registered;
  return answer(deps, call, { report, assetSha256: item.sha256, assetId: registeredAsset?.assetId, prefetched, format: item.format, source: item.source, startedAt });
}

/** The answer for an engine report: live status, log standing and the record, at the same time. */
async function answer(
  deps: VerificationServiceDeps,
  call: VerificationCall,
  found: {
    report: ManifestStoreReport | null;
    assetSha256: string;
    assetId: string | undefined;
    prefetched: Promise<LiveCertificateStatus | undefined>;
    format: string;
    source: VerificationSource;
    startedAt: number;
  },
): Promise<verificationV1.VerifyResponse> {
  const { report, assetSha256, assetId, prefetched, format, startedAt } = found;
  if (report === null) {
    throw new MeshError('not_found', 'no C2PA manifest in this asset: it carries no Content Credentials to verify', {
      details: { assetSha256, format },
    });
  }

  const state = STATE_BY_ENGINE[report.validationState];
  const signer = report.signer?.commonName ?? report.signer?.organization ?? '';
  // The CA and the registry are asked at the same time: neither answer depends on the other.
  const [live, logStanding] = await Promise.all([
    report.signer === undefined ? undefined : liveStatusOf(deps, report.signer, prefetched),
    logStandingOf(deps, report.claimSignature),
    recordVerification(deps, call, { assetSha256, state, format, signer, source: found.source, errors: report.errors }),
  ]);

  return create(verificationV1.VerifyResponseSchema, {
    validationState: state,
    valid: state === ValidationState.VALID || state === ValidationState.TRUSTED,
    trusted: state === ValidationState.TRUSTED,
    manifestStoreJson: report.manifestStoreJson,
    signer,
    signedAt: utc(report.signedAt),
    errors: statuses(report.errors),
    warnings: statuses(report.warnings),
    successes: statuses(report.successes),
    assetSha256,
    registered: assetId !== undefined,
    assetId: assetId ?? '',
    activeManifestLabel: report.activeManifestLabel ?? '',
    format,
    certificateStatus: live?.status ?? '',
    revocationReason: live?.revocationReason ?? '',
    revokedAt: utc(live?.revokedAt),
    requestId: call.requestId,
    durationMs: BigInt(Math.round(performance.now() - startedAt)),
    claimGenerator: report.claimGenerator ?? '',
    title: report.title ?? '',
    ingredients: ingredients(report.ingredients),
    ...logStanding,
  });
}

/** The provenance chain as VerifyResponse.ingredients lists it. */
function ingredients(chain: ManifestStoreReport['ingredients']): verificationV1.Ingredient[] {
  return chain.map((i) =>
    create(verificationV1.IngredientSchema, {
      title: i.title ?? '',
      relationship: i.relationship,
      activeManifestLabel: i.activeManifestLabel ?? '',
      signer: i.signer ?? '',
      validationState: i.validationState === undefined ? ValidationState.UNSPECIFIED : STATE_BY_ENGINE[i.validationState],
      parentManifestLabel: i.parentManifestLabel,
      format: i.format ?? '',
    }),
  );
}

/**
 * An asset without Content Credentials whose content matches registered assets: nothing to
 * validate (state unspecified, not valid), the matches instead of not_found, best first.
 */
function strippedAssetResponse(
  call: VerificationCall,
  found: { assetSha256: string; format: string; startedAt: number; softBindingMatches: verificationV1.VerifyResponse['softBindingMatches'] },
): verificationV1.VerifyResponse {
  return create(verificationV1.VerifyResponseSchema, {
    validationState: ValidationState.UNSPECIFIED,
    valid: false,
    trusted: false,
    assetSha256: found.assetSha256,
    format: found.format,
    requestId: call.requestId,
    durationMs: BigInt(Math.round(performance.now() - found.startedAt)),
    warnings: [
      create(verificationV1.ValidationStatusSchema, {
        code: 'manifest.missing',
        explanation: 'the asset carries no Content Credentials; soft_binding_matches lists signed assets whose content it matches',
      }),
    ],
    softBindingMatches: found.softBindingMatches,
  });
}
