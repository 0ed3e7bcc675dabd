import type { MessagePort } from 'node:worker_threads';
import type { SignatureDetails } from './manifest-store-report.js';
import type { IntentRefusal, IntentVariant, SignIntent } from './sign-intent.js';
import type { ClaimSigner } from './types.js';

/** What the pool's workers are asked to do, and what they answer. Shared by both sides. */

export interface PingTask {
  kind: 'ping';
}

export interface ReadTask {
  kind: 'read';
  format: string;
  asset: Uint8Array;
  settings: string;
  recycleAfterBytes: number;
}

export interface SignTask {
  kind: 'sign';
  format: string;
  asset: Uint8Array;
  manifestDefinition: string;
  alg: ClaimSigner['alg'];
  reserveSize: number;
  settings: string;
  /** Settings for reading the signed asset back (same trust, validation off). */
  readBackSettings: string;
  /** Claim bytes go out on this port and the COSE_Sign1 comes back (see SignerRequest). */
  signerPort: MessagePort;
  recycleAfterBytes: number;
  /** Hash the asset as given too (SignResult.inputSha256). */
  hashInput: boolean;
  /** Remote manifest reference written beside the embedded store; undefined: none. */
  remoteManifestUrl?: string;
  /**
   * The Builder intent, by whether the source carries a manifest (the worker looks only when the
   * two differ). Undefined: no intent, `manifestDefinition` as it is.
   */
  intent?: { withManifest: IntentVariant; withoutManifest: IntentVariant };
}

export type EngineTask = PingTask | ReadTask | SignTask;

/** Worker → main on the signer port. */
export interface SignerRequest {
  id: number;
  claim: Uint8Array;
}

/** Main → worker on the signer port. */
export type SignerReply = { id: number; cose: Uint8Array } | { id: number; error: string };

export interface PingResult {
  threadId: number;
  initMs: number;
}

export interface ReadResult {
  manifestStoreJson: string;
  activeManifestLabel?: string;
  signature: SignatureDetails;
}

export interface SignResult {
  signedAsset: Uint8Array;
  /** `sha256:<hex>` of the signed asset. */
  signedAssetSha256: string;
  /** `sha256:<hex>` of the asset as given, when the task asked for it. */
  inputSha256?: string;
  manifestStoreJson: string;
  /** The manifest store as embedded (JUMBF). */
  manifestStore: Uint8Array;
  activeManifestLabel: string;
  /** The intent the manifest was made with, when the task had one. */
  intent?: SignIntent;
}

/**
 * Engine failures travel as data, not as thrown errors: the raw c2pa-rs text survives the thread
 * boundary intact and is classified on the main thread.
 */
export type TaskOutcome<T> = (
  | { ok: true; value: T; threadId: number; retiring: boolean }
  | { ok: false; engineError: string; trap: boolean; threadId: number; retiring: boolean; refusal?: IntentRefusal }
) & {
  /** Size of the worker's WebAssembly memory after a read or sign task (it only grows). */
  memoryBytes?: number;
};

/** Slots in the shared retirement board; see engine.ts. */
export const RETIREMENT_SLOTS = 1024;

export interface EngineWorkerData {
  /** Int32Array over SharedArrayBuffer: slot threadId % RETIREMENT_SLOTS holds threadId to retire. */
  retirementBoard: SharedArrayBuffer;
  /** c2pa-rs, compiled once in the main thread (a WebAssembly.Module); see engine-module.ts. */
  engineModule: object;
}
