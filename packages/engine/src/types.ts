import type { FairnessKey } from './fair-queue.js';
import type { SignIntent } from './sign-intent.js';

/**
 * The claim signer the engine calls back while embedding a manifest. It receives the claim bytes
 * and returns the COMPLETE COSE_Sign1 (see buildCoseSign1), exactly `reserveSize` bytes long.
 * It runs on the caller's thread: key custody, the TSA and OCSP stay there.
 */
export interface ClaimSigner {
  alg: 'es256' | 'es384' | 'ps256' | 'ed25519';
  reserveSize: number;
  sign(claim: Uint8Array): Promise<Uint8Array>;
}

export interface SignAssetOptions {
  /** MIME type, alias or extension of the asset; see SIGNABLE_FORMATS. */
  format: string;
  asset: Uint8Array;
  /**
   * Where the manifest store can also be fetched (c2pa-rs `set_remote_url`): written into the asset
   * (XMP `dcterms:provenance`) beside the embedded store. Undefined: no remote reference.
   */
  remoteManifestUrl?: string;
  /**
   * A c2pa-rs ManifestDefinition as JSON, already validated by the caller; the engine hands it to
   * `WasmBuilder.fromJson` unchanged. What c2pa-rs 0.91 makes of it (checked here):
   * - `claim_version` defaults to 2: the claim has no `claim_generator` string and no `dc:format`,
   *   and a `c2pa.actions` assertion is written as `c2pa.actions.v2`;
   * - `claim_generator_info` is optional; without it the claim names "c2pa-rs" itself. c2pa-rs adds
   *   `"org.contentauth.c2pa_rs": "<version>"` to the first entry either way;
   * - the hard binding (data hash, BMFF hash) is computed by the engine, never given;
   * - the WebAssembly build generates no thumbnails;
   * - c2pa-rs validates the result before returning it (verify-after-sign) and refuses, e.g., a
   *   first action other than `c2pa.created`/`c2pa.opened`, or `c2pa.created` without
   *   `digitalSourceType` (sign() rejects with invalid_argument naming the status codes).
   */
  manifestDefinition: string;
  signer: ClaimSigner;
  signal?: AbortSignal;
  /** Whose job this is: the queue takes turns between tenants and callers (default: the mesh's own). */
  fairness?: FairnessKey;
  /** Running time this job may take, when less than the engine's `taskTimeoutMs`. */
  budgetMs?: number;
  /**
   * Hand the asset's memory to the worker instead of copying it (large assets the caller no longer
   * needs): the caller must not use the buffer after calling sign(); it is detached (reads as
   * empty) once the task reaches a worker. `true`: only an asset that spans its whole
   * ArrayBuffer moves, any other is copied as usual. `'buffer'`: the whole ArrayBuffer behind the
   * asset belongs to this call (a request message decoded for this call alone), so it moves also
   * when the asset is a view of part of it, and every other view of it is detached too.
   */
  transferAsset?: boolean | 'buffer';
  /** Also hash the asset as given (`inputSha256`), on the worker; for callers that have not. */
  hashInput?: boolean;
  /**
   * The c2pa-rs Builder intent (see sign-intent.ts); `auto` is edit when the asset carries a
   * manifest, create otherwise. Undefined: no intent, the definition is signed as it is (a
   * manifest the asset carried is replaced).
   */
  intent?: SignIntent | 'auto';
  /** For create: the digital source type to write when the definition has no actions. */
  defaultDigitalSourceType?: string;
  /**
   * Trust anchors (PEM) for the validation c2pa-rs runs while signing: of the parent ingredient
   * of an edit or update (recorded in the ingredient) and of the new signature. Undefined: none,
   * every signer reads untrusted there.
   */
  trustAnchorsPem?: string;
}

export interface SignAssetResult {
  signedAsset: Uint8Array;
  /** `sha256:<hex>` of `signedAsset`, computed on the worker that produced it. */
  signedAssetSha256: string;
  /** `sha256:<hex>` of the asset as given, when `hashInput` asked for it. */
  inputSha256?: string;
  /** The manifest store of the signed asset as c2pa-rs reports it (`Reader::json`). */
  manifestStoreJson: string;
  /** The manifest store as embedded (JUMBF, `application/c2pa`). */
  manifestStore: Uint8Array;
  activeManifestLabel: string;
  /** The intent the manifest was made with (`auto` resolved), when one was asked for. */
  intent?: SignIntent;
}

export interface ReadOptions {
  /** PEM bundle of trust anchors: a chain ending in one of them makes a manifest Trusted. */
  trustAnchorsPem?: string;
  /**
   * PEM bundle of end-entity certificates trusted as they are (C2PA private credential store);
   * base64 SHA-256 fingerprints, one per line, are accepted too.
   */
  allowedCertificatesPem?: string;
  signal?: AbortSignal;
  /** Whose job this is: the queue takes turns between tenants and callers (default: the mesh's own). */
  fairness?: FairnessKey;
  /** Running time this job may take, when less than the engine's `taskTimeoutMs`. */
  budgetMs?: number;
}

export interface ReadAssetOptions extends ReadOptions {
  format: string;
  asset: Uint8Array;
}

/** One c2pa-rs validation status entry. */
export interface ValidationStatusEntry {
  code: string;
  url?: string;
  explanation?: string;
}

export type ValidationState = 'Invalid' | 'Valid' | 'Trusted';

/** One ingredient of a manifest in the store: a link of the provenance chain. */
export interface IngredientSummary {
  /** Label of the manifest that lists the ingredient. */
  parentManifestLabel: string;
  /** `parentOf`, `componentOf` or `inputTo`. */
  relationship: string;
  /** The ingredient's title, else its own active manifest's. */
  title?: string;
  format?: string;
  /** Label of the ingredient's own active manifest; undefined when it carried none. */
  activeManifestLabel?: string;
  /** Common name (else organisation) of that manifest's signing certificate. */
  signer?: string;
  /**
   * That manifest's state as recorded in the ingredient (with the trust list of whoever added
   * it), Invalid when the reader found failures in it now. Undefined: no manifest.
   */
  validationState?: ValidationState;
}

/** The validation summary every caller wants, derived from the manifest store JSON. */
export interface ManifestStoreReport {
  manifestStoreJson: string;
  validationState: ValidationState;
  activeManifestLabel?: string;
  /** c2pa-rs "failure" entries (a Valid manifest may still list signingCredential.untrusted). */
  errors: ValidationStatusEntry[];
  /** c2pa-rs "informational" entries. */
  warnings: ValidationStatusEntry[];
  /** c2pa-rs "success" entries. */
  successes: ValidationStatusEntry[];
  signer?: {
    commonName?: string;
    organization?: string;
    issuer?: string;
    /** Hexadecimal, lower case. */
    certificateSerialNumber?: string;
    algorithm?: string;
    /** SHA-256 (base64) of the signing certificate's DER, as C2PA allowed lists name it. */
    certificateSha256?: string;
  };
  /** RFC 3339; from the time-stamp when the signature carries one. */
  signedAt?: string;
  /** The active manifest's COSE_Sign1, exactly as in its `c2pa.signature` box (the log's leaf). */
  claimSignature?: Uint8Array;
  claimGenerator?: string;
  title?: string;
  format?: string;
  /** The ingredients of the active manifest and theirs in turn, depth first. */
  ingredients: IngredientSummary[];
}

export interface EngineStats {
  /** Live worker threads. */
  threads: number;
  /** Tasks waiting for a worker. */
  queued: number;
  /** Tasks on a worker now. */
  running: number;
  /** Tasks a worker finished (successfully or with an engine error). */
  completed: number;
  /** Workers replaced after a large job, to return WebAssembly memory. */
  recycled: number;
  /** Workers terminated because their task was aborted or ran over its time budget. */
  terminated: number;
  /** Jobs stopped because they ran over their time budget. */
  overBudget: number;
  /** The largest WebAssembly memory (c2pa-rs's heap) any worker has had after a task, in bytes. */
  largestMemoryBytes: number;
}

export interface C2paEngine {
  /** Embeds a manifest and signs it through `signer`. */
  sign(options: SignAssetOptions): Promise<SignAssetResult>;
  /** Full validation. Returns null when the asset carries no C2PA manifest. */
  read(options: ReadAssetOptions): Promise<ManifestStoreReport | null>;
  /**
   * Resolves once every worker has loaded the engine and, the first time and unless
   * `warmupBytes` is 0, signed and read a generated asset of that size, so that the first call
   * finds optimised code.
   */
  warmup(): Promise<void>;
  stats(): EngineStats;
  /** Calls `listener` as each job reaches a worker; returns the function that stops it. */
  onJobStart(listener: (event: EngineJobStart) => void): () => void;
  close(): Promise<void>;
}

/** A job reaching a worker. */
export interface EngineJobStart {
  kind: 'ping' | 'read' | 'sign';
  tenant: string;
  caller: string;
  /** Time from submission to a worker taking it. */
  waitedMs: number;
}

export interface EngineOptions {
  /** Worker threads (default 2). */
  threads?: number;
  /**
   * Tasks allowed to wait for a worker before calls fail with resource_exhausted (default 32);
   * a tenant with no task waiting still gets one in.
   */
  maxQueue?: number;
  /** Tasks of one tenant allowed to wait for a worker before its calls fail with resource_exhausted (default 16). */
  maxQueuePerTenant?: number;
  /**
   * A worker that handled a job larger than this is replaced (default 32 MiB), and so is one whose
   * WebAssembly memory has grown by more than eight times this (at least 64 MiB).
   */
  recycleAfterBytes?: number;
  /**
   * The time budget of one job: a job running (not queued) longer than this is stopped with
   * resource_exhausted and its worker replaced (default 60 s).
   */
  taskTimeoutMs?: number;
  /** Size of the asset each worker signs and reads in `warmup()` (default 8 MiB; 0: load only). */
  warmupBytes?: number;
}
