/**
 * One engine worker thread: loads c2pa-rs (WebAssembly) once, then runs read and sign tasks that
 * the pool hands it. Loaded by piscina's worker bootstrap, never imported by the main thread.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { threadId, workerData } from 'node:worker_threads';
import { initSync, WasmBuilder, WasmReader } from '@contentauth/c2pa-wasm';
import { Piscina } from 'piscina';
import { coseInManifestStore, signingCertificateOf } from './cose-sign1.js';
import { installFileReaderSync, InMemoryBlob } from './file-reader-sync.js';
import { signatureDetailsFromCrJson, type SignatureDetails } from './manifest-store-report.js';
import {
  RETIREMENT_SLOTS,
  type EngineTask,
  type EngineWorkerData,
  type PingResult,
  type ReadResult,
  type ReadTask,
  type SignerReply,
  type SignerRequest,
  type SignResult,
  type SignTask,
  type TaskOutcome,
} from './engine-tasks.js';
import { SOURCE_INGREDIENT_LABEL, type IntentPlan, type IntentRefusal } from './sign-intent.js';

installFileReaderSync();

/** The media type c2pa-rs reads a bare manifest store (a `.c2pa` sidecar) as. */
const MANIFEST_STORE_FORMAT = 'application/c2pa';

const initStarted = performance.now();
// The module the main thread compiled: its optimised code is shared with every other worker.
const wasm = initSync({ module: (workerData as EngineWorkerData).engineModule as Parameters<typeof initSync>[0] });
const initMs = performance.now() - initStarted;
const initialMemory = wasm.memory.buffer.byteLength;

const retirementBoard = new Int32Array((workerData as EngineWorkerData).retirementBoard);
let retiring = false;

/**
 * Asks the pool not to give this worker more work; the main thread then replaces it. Written to
 * shared memory before the task's answer is posted, so the pool's balancer sees it in time.
 */
function retire(): void {
  retiring = true;
  Atomics.store(retirementBoard, threadId % RETIREMENT_SLOTS, threadId);
}

// The ES2023 lib this project compiles against has no WebAssembly declarations.
const WasmRuntimeError = (globalThis as unknown as { WebAssembly: { RuntimeError: new () => Error } }).WebAssembly.RuntimeError;

function outcomeOfFailure(error: unknown): TaskOutcome<never> {
  if (typeof error === 'string') return { ok: false, engineError: error, trap: false, threadId, retiring };
  if (error instanceof WasmRuntimeError) {
    // A trap leaves the instance in an unknown state: never use it again.
    retire();
    return { ok: false, engineError: error.message, trap: true, threadId, retiring };
  }
  throw error;
}

/** Runs a job, then decides whether this worker has grown too large to keep. */
async function recycling<T>(bytes: number, recycleAfterBytes: number, job: () => Promise<TaskOutcome<T>>): Promise<TaskOutcome<T>> {
  const outcome = await job();
  // WebAssembly memory only grows: after a large job, hand the thread (and its memory) back. The
  // engine needs up to about seven times an asset's size while signing it, so the memory rule
  // (eight times the job limit) only catches what many jobs below the limit may leave behind.
  const grownBy = wasm.memory.buffer.byteLength - initialMemory;
  if (bytes > recycleAfterBytes || grownBy > Math.max(8 * recycleAfterBytes, 64 * 1024 * 1024)) retire();
  return { ...outcome, retiring, memoryBytes: wasm.memory.buffer.byteLength };
}

/**
 * The active signature's COSE_Sign1 (the `c2pa.signature` box content) and the fingerprint of its
 * certificate.
 */
function activeSignature(reader: WasmReader, activeManifestLabel: string): { cose?: Uint8Array; certificateSha256?: string } {
  try {
    // c2pa-wasm answers this URI with the whole manifest store; the walk finds the signature.
    const store = reader.resourceToBytes(`self#jumbf=/c2pa/${activeManifestLabel}/c2pa.signature`);
    const cose = coseInManifestStore(store, activeManifestLabel);
    if (cose === undefined) return {};
    const certificate = signingCertificateOf(cose);
    return {
      cose: cose.slice(),
      ...(certificate === undefined ? {} : { certificateSha256: createHash('sha256').update(certificate).digest('base64') }),
    };
  } catch {
    return {};
  }
}

async function read(task: ReadTask): Promise<TaskOutcome<ReadResult>> {
  try {
    const reader = await WasmReader.fromBytes(task.format, task.asset, task.settings);
    try {
      const manifestStoreJson = reader.json();
      const activeManifestLabel = reader.activeLabel();
      let signature: SignatureDetails = {};
      try {
        signature = signatureDetailsFromCrJson(reader.crJson(), activeManifestLabel);
      } catch {
        // The crJSON report only adds the issuer name and time-stamp time; the read stands without.
      }
      if (activeManifestLabel !== undefined) {
        const { cose, certificateSha256 } = activeSignature(reader, activeManifestLabel);
        if (certificateSha256 !== undefined) signature.signingCertificateSha256 = certificateSha256;
        if (cose !== undefined) signature.claimSignature = cose;
      }
      return { ok: true, value: { manifestStoreJson, activeManifestLabel, signature }, threadId, retiring };
    } finally {
      reader.free();
    }
  } catch (error) {
    return outcomeOfFailure(error);
  }
}

/** The engine's signer: posts the claim to the main thread and awaits the complete COSE_Sign1. */
function remoteClaimSigner(task: SignTask) {
  const pending = new Map<number, { resolve: (cose: Uint8Array) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  task.signerPort.on('message', (reply: SignerReply) => {
    const waiting = pending.get(reply.id);
    if (waiting === undefined) return;
    pending.delete(reply.id);
    if ('cose' in reply) waiting.resolve(reply.cose);
    else waiting.reject(new Error(reply.error));
  });
  return {
    alg: task.alg,
    reserveSize: task.reserveSize,
    sign: (claim: Uint8Array) =>
      new Promise<Uint8Array>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        const request: SignerRequest = { id, claim };
        task.signerPort.postMessage(request);
      }),
  };
}

/**
 * Whether the source carries a C2PA manifest: c2pa-rs locates the manifest store without
 * validating it, reading the Blob in slices (no copy of the asset into the engine's memory).
 */
async function sourceHasManifest(task: SignTask): Promise<boolean> {
  try {
    const reader = await WasmReader.fromBlob(task.format, new InMemoryBlob(task.asset).asBlob(), task.readBackSettings);
    reader.free();
    return true;
  } catch (error) {
    if (typeof error === 'string' && /^C2pa\((JumbfNotFound|ProvenanceMissing)\b/.test(error)) return false;
    throw error;
  }
}

/** The intent plan for this source, or the refusal that applies to it. */
async function chooseIntent(task: SignTask): Promise<{ plan?: IntentPlan; refusal?: IntentRefusal }> {
  const choice = task.intent;
  if (choice === undefined) return {};
  const same = JSON.stringify(choice.withManifest) === JSON.stringify(choice.withoutManifest);
  const variant = same || (await sourceHasManifest(task)) ? choice.withManifest : choice.withoutManifest;
  return 'plan' in variant ? { plan: variant.plan } : { refusal: variant.refusal };
}

const sha256Of = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function sign(task: SignTask): Promise<TaskOutcome<SignResult>> {
  try {
    // Hashed here, where the bytes already are: the caller's event loop neither copies nor hashes
    // them (native SHA-256, about 0.6 ms per MiB).
    const inputSha256 = task.hashInput ? sha256Of(task.asset) : undefined;
    const { plan, refusal } = await chooseIntent(task);
    if (refusal !== undefined) return { ok: false, engineError: refusal.message, trap: false, threadId, retiring, refusal };
    const builder = WasmBuilder.fromJson(plan?.manifestDefinition ?? task.manifestDefinition, task.settings);
    if (task.remoteManifestUrl !== undefined) builder.setRemoteUrl(task.remoteManifestUrl);
    let signed: { asset: Uint8Array; manifest: Uint8Array };
    try {
      if (plan !== undefined) {
        if (plan.builderIntent !== undefined) builder.setIntent(plan.builderIntent);
        if (plan.addsSourceAsParent) {
          // The parent, with the source's manifest store and validation results; the opened
          // action of the plan names it by this label.
          const parent = JSON.stringify({ relationship: 'parentOf', label: SOURCE_INGREDIENT_LABEL });
          await builder.addIngredientFromBlob(parent, task.format, new InMemoryBlob(task.asset).asBlob());
        }
      }
      signed = (await builder.signAndGetManifestBytes(
        remoteClaimSigner(task) as Parameters<WasmBuilder['sign']>[0],
        [],
        task.format,
        new InMemoryBlob(task.asset).asBlob(),
      )) as { asset: Uint8Array; manifest: Uint8Array };
    } finally {
      builder.free();
    }
    // The manifest store JSON is read from the manifest store the engine just embedded, not from
    // the signed asset: no second copy of the asset in the engine's memory, no second parse of
    // it. c2pa-rs already validated what it signed (verify-after-sign), so this read skips it.
    const reader = await WasmReader.fromBytes(MANIFEST_STORE_FORMAT, signed.manifest, task.readBackSettings);
    try {
      const manifestStoreJson = reader.json();
      const activeManifestLabel = reader.activeLabel() ?? '';
      const value: SignResult = { signedAsset: signed.asset, signedAssetSha256: sha256Of(signed.asset), manifestStoreJson, manifestStore: signed.manifest, activeManifestLabel };
      if (inputSha256 !== undefined) value.inputSha256 = inputSha256;
      if (plan?.intent !== undefined) value.intent = plan.intent;
      return { ok: true, value, threadId, retiring };
    } finally {
      reader.free();
    }
  } catch (error) {
    return outcomeOfFailure(error);
  } finally {
    task.signerPort.close();
  }
}

/** Hands the signed asset's memory to the main thread instead of copying it. */
function transferringSignedAsset(outcome: TaskOutcome<SignResult>): unknown {
  if (!outcome.ok) return outcome;
  const bytes = outcome.value.signedAsset;
  if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) return outcome;
  const movable = { [Piscina.transferableSymbol]: bytes.buffer, [Piscina.valueSymbol]: outcome };
  return Piscina.move(movable as unknown as Parameters<typeof Piscina.move>[0]);
}

export default async function runEngineTask(task: EngineTask): Promise<unknown> {
  switch (task.kind) {
    case 'ping':
      return { ok: true, value: { threadId, initMs } satisfies PingResult, threadId, retiring } satisfies TaskOutcome<PingResult>;
    case 'read':
      return recycling(task.asset.byteLength, task.recycleAfterBytes, () => read(task));
    case 'sign':
      return transferringSignedAsset(await recycling(task.asset.byteLength, task.recycleAfterBytes, () => sign(task)));
  }
}
