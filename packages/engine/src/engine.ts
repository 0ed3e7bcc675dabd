import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, type TransferListItem } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { isMeshError, MeshError, failedPrecondition, resourceExhausted, unavailable } from '@c2pa-mesh/errors';
import { createDeadline } from './deadline.js';
import { classifyEngineError, engineTrapError, type EngineOperation } from './engine-errors.js';
import { engineSettings } from './engine-settings.js';
import {
  RETIREMENT_SLOTS,
  type EngineTask,
  type EngineWorkerData,
  type PingResult,
  type ReadResult,
  type SignerReply,
  type SignerRequest,
  type SignResult,
  type TaskOutcome,
} from './engine-tasks.js';
import { checkDeclaredFormat, checkSignableForm, formatDisplayName, isSignableFormat } from './formats.js';
import { summarizeManifestStore } from './manifest-store-report.js';
import { allowedFingerprints, applyAllowedList } from './allowed-list.js';
import { FairQueue, MESH_FAIRNESS_KEY, type FairnessKey } from './fair-queue.js';
import { COSE_ALGORITHMS } from './cose-sign1.js';
import { engineModule } from './engine-module.js';
import { toneWav, WARMUP_MANIFEST, warmupCredentials } from './warmup-workload.js';
import { workerModuleOptions } from './worker-exec-argv.js';
import { declaresParent, intentVariant, updateWithoutManifest, type IntentVariant } from './sign-intent.js';
import type {
  C2paEngine,
  EngineJobStart,
  EngineOptions,
  EngineStats,
  ManifestStoreReport,
  ReadAssetOptions,
  SignAssetOptions,
  SignAssetResult,
} from './types.js';

const DEFAULTS = {
  threads: 2,
  maxQueue: 32,
  maxQueuePerTenant: 16,
  recycleAfterBytes: 32 * 1024 * 1024,
  taskTimeoutMs: 60_000,
  warmupBytes: 8 * 1024 * 1024,
} as const;

const WORKER_START_TIMEOUT_MS = 120_000;

/** The pool's view of one submitted task, reached by the balancer through queueOptionsSymbol. */
interface TaskState {
  started: boolean;
  /** Called by the balancer as the task goes to a worker: the running-time limit starts then. */
  onStart: () => void;
}

/** A job waiting in the fair queue for a worker. */
interface WaitingJob {
  /** Its turn has come: hand it to piscina. */
  start: () => void;
  /** The engine shut down while it waited. */
  fail: (error: unknown) => void;
}

type PiscinaOptions = NonNullable<ConstructorParameters<typeof Piscina>[0]>;
type LoadBalancer = NonNullable<PiscinaOptions['loadBalancer']>;

/**
 * Worker threads run TypeScript sources through tsx, as the main thread does; a worker does not
 * inherit the loader, so it is passed on explicitly (by absolute URL, independent of the cwd).
 * Of the process's own Node options only those that load modules are passed on: workers refuse
 * V8 and per-process options such as `--max-old-space-size`.
 */
function workerExecArgv(workerUrl: URL): string[] {
  const inherited = workerModuleOptions(process.execArgv);
  if (!workerUrl.pathname.endsWith('.ts') || inherited.some((arg) => arg.includes('tsx'))) return inherited;
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return [...inherited, '--import', tsxLoader];
}

/**
 * The C2PA engine (c2pa-rs through WebAssembly) on a pool of worker threads: the engine blocks the
 * thread it runs on, so it never runs on the caller's event loop.
 *
 * - Fair, bounded queue: jobs wait in a queue that takes turns between tenants and, within one,
 *   between callers (fair-queue.ts), so one tenant's flood delays another's call by at most one
 *   job. Beyond `maxQueuePerTenant` waiting jobs of one tenant, or `maxQueue` in all (except a
 *   tenant's first waiting job), calls fail fast with resource_exhausted.
 * - Time budget and abort: a job running longer than its budget (`taskTimeoutMs`, or less for
 *   the call) or whose caller gives up is stopped: piscina terminates its worker and starts a
 *   fresh one, so a hostile file cannot hold a thread, and other jobs go on.
 * - Recycling: WebAssembly memory never shrinks, so a worker that handled a job larger than
 *   `recycleAfterBytes` (or trapped) is replaced. It marks itself on a shared-memory board before
 *   answering; the balancer below stops giving it work, then the main thread terminates it and
 *   piscina starts a replacement. Slots are threadId modulo the board size and hold the full
 *   threadId, so no worker is ever mistaken for another; only two live workers 1024 thread ids
 *   apart could overwrite each other's mark.
 */
export function createEngine(options: EngineOptions = {}): C2paEngine {
  const threads = Math.max(1, Math.floor(options.threads ?? DEFAULTS.threads));
  const maxQueue = Math.max(0, Math.floor(options.maxQueue ?? DEFAULTS.maxQueue));
  const maxQueuePerTenant = Math.max(0, Math.floor(options.maxQueuePerTenant ?? DEFAULTS.maxQueuePerTenant));
  const recycleAfterBytes = options.recycleAfterBytes ?? DEFAULTS.recycleAfterBytes;
  const taskTimeoutMs = options.taskTimeoutMs ?? DEFAULTS.taskTimeoutMs;
  const warmupBytes = Math.max(0, Math.floor(options.warmupBytes ?? DEFAULTS.warmupBytes));

  const retirementBoard = new SharedArrayBuffer(RETIREMENT_SLOTS * Int32Array.BYTES_PER_ELEMENT);
  const retirement = new Int32Array(retirementBoard);
  const isRetiring = (id: number) => Atomics.load(retirement, id % RETIREMENT_SLOTS) === id;

  // One task per worker (the engine is synchronous inside), and never on a retiring worker.
  const balancer: LoadBalancer = (task, workers) => {
    for (const worker of workers) {
      if (worker.currentUsage !== 0 || worker.terminating || worker.destroyed || isRetiring(worker.id)) continue;
      const state = (task as unknown as Record<symbol, unknown>)[Piscina.queueOptionsSymbol] as TaskState | null | undefined;
      if (state) {
        state.started = true;
        state.onStart();
      }
      return worker;
    }
    return null;
  };

  const workerUrl = new URL(import.meta.url.endsWith('.ts') ? './engine-worker.ts' : './engine-worker.js', import.meta.url);
  const pool = new Piscina({
    filename: fileURLToPath(workerUrl),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    // The bound is enforced below: piscina does not count abortable tasks against its maxQueue.
    maxQueue: Infinity,
    concurrentTasksPerWorker: 1,
    execArgv: workerExecArgv(workerUrl),
    workerData: { retirementBoard, engineModule: engineModule() } satisfies EngineWorkerData,
    loadBalancer: balancer,
  });
  // A worker dying while idle is reported here; piscina has already replaced it, and tasks on a
  // dying worker are rejected individually, so there is nothing more to do with the event.
  pool.on('error', () => {});

  /** Tasks handed to piscina (a worker is free, or being replaced), until they settle. */
  const submitted = new Set<TaskState>();
  /** Jobs waiting for a worker, in turn between tenants; see fair-queue.ts. */
  const waiting = new FairQueue<WaitingJob>();
  const jobStartListeners = new Set<(event: EngineJobStart) => void>();
  let completed = 0;
  let recycled = 0;
  let terminated = 0;
  let overBudget = 0;
  let largestMemoryBytes = 0;
  let exercised = false;
  let closed = false;

  async function recycleWorker(threadId: number): Promise<void> {
    const worker = pool.threads.find((t) => t.threadId === threadId);
    if (worker === undefined) return;
    recycled++;
    await worker.terminate();
  }

  /** Hands waiting jobs to piscina, by turn, while a worker is free for them. */
  function dispatch(): void {
    while (!closed && submitted.size < threads) {
      const job = waiting.shift();
      if (job === undefined) return;
      job.start();
    }
  }

  /**
   * Refuses a job that would wait beyond the queue bounds. A job that starts at once is never
   * refused, nor the only waiting job of its tenant.
   */
  function checkRoom(key: FairnessKey): void {
    if (waiting.size === 0 && submitted.size < threads) return;
    const ofTenant = waiting.sizeOf(key.tenant);
    if (ofTenant >= maxQueuePerTenant) {
      const who = key.tenant === '' ? 'mesh-wide callers' : 'this project';
      throw resourceExhausted(`${who} already ${key.tenant === '' ? 'have' : 'has'} ${ofTenant} C2PA engine jobs waiting, the most one project may queue; retry later, or send fewer calls at once`, {
        metadata: { 'retry-after': '1' },
        details: { queued: ofTenant, maxQueuePerTenant },
      });
    }
    // A tenant with nothing waiting always gets one job in: a full queue is no reason to starve it.
    if (ofTenant > 0 && waiting.size >= maxQueue) {
      throw resourceExhausted('engine busy, retry later', {
        metadata: { 'retry-after': '1' },
        details: { queued: waiting.size, maxQueue },
      });
    }
  }

  async function run<T>(
    task: EngineTask,
    transferList: TransferListItem[],
    job: { signal?: AbortSignal; fairness?: FairnessKey; budgetMs?: number },
    queued: boolean,
    timeoutMs = Math.min(taskTimeoutMs, job.budgetMs ?? Infinity),
  ): Promise<TaskOutcome<T>> {
    if (closed) throw unavailable('the C2PA engine is shut down');
    const key = job.fairness ?? MESH_FAIRNESS_KEY;
    if (queued) checkRoom(key);
    const { signal } = job;
    // The limit is on running time: waiting in the queue is bounded by the queue bounds instead,
    // and a task queued behind a worker being replaced should not expire while the new one starts.
    const deadline = createDeadline(signal, timeoutMs, { startNow: false });
    const enqueuedAt = performance.now();
    const state: TaskState = {
      started: false,
      onStart: () => {
        deadline.start();
        const event: EngineJobStart = { kind: task.kind, tenant: key.tenant, caller: key.caller, waitedMs: performance.now() - enqueuedAt };
        for (const listener of jobStartListeners) listener(event);
      },
    };
    let handedOver = false;
    try {
      await new Promise<void>((resolve, reject) => {
        if (deadline.signal.aborted) {
          reject(deadline.signal.reason);
          return;
        }
        const onAbort = () => {
          if (waiting.remove(key, entry)) reject(deadline.signal.reason);
        };
        const entry: WaitingJob = {
          start: () => {
            deadline.signal.removeEventListener('abort', onAbort);
            submitted.add(state);
            handedOver = true;
            resolve();
          },
          fail: (error) => {
            deadline.signal.removeEventListener('abort', onAbort);
            reject(error);
          },
        };
        deadline.signal.addEventListener('abort', onAbort, { once: true });
        waiting.push(key, entry);
        dispatch();
      });
      const queuedTask = Object.assign(task, { [Piscina.queueOptionsSymbol]: state });
      const outcome = (await pool.run(queuedTask, {
        transferList,
        signal: deadline.signal,
      })) as TaskOutcome<T>;
      completed++;
      if (outcome.memoryBytes !== undefined) largestMemoryBytes = Math.max(largestMemoryBytes, outcome.memoryBytes);
      if (outcome.retiring) void recycleWorker(outcome.threadId);
      return outcome;
    } catch (error) {
      if (deadline.signal.aborted) {
        if (state.started) terminated++;
        if (!deadline.expired) throw signal?.reason ?? error;
        overBudget++;
        throw resourceExhausted(
          `the C2PA engine stopped this job after ${timeoutMs} ms, its time budget for one job; the asset or manifest needs more work than one call may take: send a smaller or simpler one, or split the work`,
          { cause: error, details: { budgetMs: timeoutMs } },
        );
      }
      if (closed) throw unavailable('the C2PA engine is shut down', { cause: error });
      // The worker thread died under the task (piscina has started another): out of memory on
      // a huge or hostile asset is the likely cause, not a fault of the caller's request format.
      if (error instanceof Error && /^worker exited with code/.test(error.message)) {
        throw resourceExhausted('the C2PA engine ran out of resources on this asset', { cause: error });
      }
      throw error;
    } finally {
      deadline.release();
      if (handedOver) {
        submitted.delete(state);
        dispatch();
      }
    }
  }

  /** The asset as the worker should get it: whole buffers are cloned, views are copied alone. */
  function assetForWorker(asset: Uint8Array): { bytes: Uint8Array; transfer: TransferListItem[] } {
    if (asset.byteOffset === 0 && asset.byteLength === asset.buffer.byteLength) return { bytes: asset, transfer: [] };
    // Not asset.slice(): on a Buffer that is a view of the same memory, and transferring it
    // would detach the caller's buffer.
    const copy = new Uint8Array(asset);
    return { bytes: copy, transfer: [copy.buffer] };
  }

  function failure(outcome: Extract<TaskOutcome<unknown>, { ok: false }>, operation: EngineOperation, format: string): MeshError {
    if (outcome.refusal !== undefined) return new MeshError(outcome.refusal.code, outcome.refusal.message, { details: outcome.refusal.details });
    return outcome.trap ? engineTrapError(outcome.engineError, { operation, format }) : classifyEngineError(outcome.engineError, { operation, format });
  }

  /** Resolves once every worker has loaded and initialised the engine. */
  async function startWorkers(): Promise<void> {
    // Pings run one per idle worker at a time, so a round covers every worker; a worker
    // replaced during the round is caught by the next one.
    for (let round = 0; round < 5; round++) {
      const live = pool.threads.map((t) => t.threadId);
      // A worker of a new pool takes its first task while still loading, so the ping's limit
      // covers starting a thread and the engine, not the task limit meant for assets.
      const answered = await Promise.all(live.map(() => run<PingResult>({ kind: 'ping' }, [], {}, false, WORKER_START_TIMEOUT_MS)));
      const ready = new Set(answered.flatMap((o) => (o.ok ? [o.value.threadId] : [])));
      if (pool.threads.length >= threads && pool.threads.every((t) => ready.has(t.threadId))) return;
    }
    throw unavailable('the C2PA engine workers did not all start');
  }

  /**
   * Signs and reads a generated asset once per worker (one task per idle worker, so they spread
   * over all of them), leaving the engine's hot code optimised before the first caller arrives;
   * see warmup-workload.ts.
   */
  async function exerciseWorkers(): Promise<void> {
    const { signer, trustAnchorPem } = await warmupCredentials();
    // Well below a job the workers keep (the signed copy is larger): warming up must not retire them.
    const asset = toneWav(Math.min(warmupBytes, Math.floor(recycleAfterBytes / 2)));
    const signed = await Promise.all(
      Array.from({ length: threads }, () => engine.sign({ format: 'audio/wav', asset, manifestDefinition: WARMUP_MANIFEST, signer })),
    );
    const reports = await Promise.all(signed.map((s) => engine.read({ format: 'audio/wav', asset: s.signedAsset, trustAnchorsPem: trustAnchorPem })));
    if (!reports.every((report) => report?.validationState === 'Trusted')) {
      throw unavailable('the C2PA engine did not validate its own warm-up signature');
    }
  }

  const engine: C2paEngine = {
    async sign(o: SignAssetOptions): Promise<SignAssetResult> {
      const format = checkDeclaredFormat(o.format, o.asset);
      if (!isSignableFormat(format)) {
        throw failedPrecondition(`${formatDisplayName(format)} assets can be verified but not signed`, {
          details: { format },
        });
      }
      checkSignableForm(format, o.asset);
      if (COSE_ALGORITHMS[o.signer.alg] === undefined) {
        throw failedPrecondition(`the claim signer uses an unsupported algorithm "${String(o.signer.alg)}"`);
      }
      const intent = intentChoice(o);
      const { port1: signerPort, port2: workerPort } = new MessageChannel();
      let signerError: unknown;
      let signerWaiting = 0;
      signerPort.on('message', (request: SignerRequest) => {
        void (async () => {
          let reply: SignerReply;
          signerWaiting++;
          try {
            const cose = await o.signer.sign(request.claim).finally(() => signerWaiting--);
            if (cose.byteLength !== o.signer.reserveSize) {
              throw new MeshError(
                'internal',
                `the claim signer returned ${cose.byteLength} bytes but reserved ${o.signer.reserveSize}; the COSE_Sign1 must fill the reserve exactly`,
              );
            }
            reply = { id: request.id, cose };
          } catch (error) {
            signerError ??= error;
            reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
          }
          signerPort.postMessage(reply);
        })();
      });
      const buffer = o.asset.buffer;
      const movable =
        buffer instanceof ArrayBuffer &&
        (o.transferAsset === 'buffer' || (o.transferAsset === true && o.asset.byteOffset === 0 && o.asset.byteLength === buffer.byteLength));
      // A view moves with its buffer: the worker gets the same view of the moved memory.
      const { bytes, transfer } = movable ? { bytes: o.asset, transfer: [buffer] } : assetForWorker(o.asset);
      try {
        const outcome = await run<SignResult>(
          {
            kind: 'sign',
            format,
            asset: bytes,
            manifestDefinition: o.manifestDefinition,
            alg: o.signer.alg,
            reserveSize: o.signer.reserveSize,
            settings: engineSettings({ trustAnchorsPem: o.trustAnchorsPem }),
            readBackSettings: engineSettings({ trustAnchorsPem: o.trustAnchorsPem }, { verifyAfterReading: false }),
            signerPort: workerPort,
            recycleAfterBytes,
            hashInput: o.hashInput === true,
            ...(o.remoteManifestUrl === undefined ? {} : { remoteManifestUrl: o.remoteManifestUrl }),
            ...(intent === undefined ? {} : { intent }),
          },
          [workerPort, ...transfer],
          o,
          true,
        ).catch((error: unknown) => {
          // Out of time while the worker waited for the claim signature: the key service, the
          // time-stamp or OCSP was slow, not the asset.
          if (signerWaiting > 0 && isMeshError(error) && error.code === 'resource_exhausted' && error.details?.budgetMs !== undefined) {
            throw unavailable(`the claim signature (key service, time-stamp, OCSP) did not arrive within the engine's time budget of ${String(error.details.budgetMs)} ms; retry later`, {
              cause: error,
              details: error.details,
            });
          }
          throw error;
        });
        // The claim signer's own error explains a failure better than the engine's echo of it.
        if (signerError !== undefined) throw claimSignerFailure(signerError);
        if (!outcome.ok) throw failure(outcome, 'sign', format);
        return outcome.value;
      } finally {
        signerPort.close();
      }
    },

    async read(o: ReadAssetOptions): Promise<ManifestStoreReport | null> {
      const format = checkDeclaredFormat(o.format, o.asset);
      const allowed = o.allowedCertificatesPem === undefined ? undefined : allowedFingerprints(o.allowedCertificatesPem);
      const { bytes, transfer } = assetForWorker(o.asset);
      const outcome = await run<ReadResult>(
        {
          kind: 'read',
          format,
          asset: bytes,
          settings: engineSettings({ trustAnchorsPem: o.trustAnchorsPem, allowedCertificatesPem: o.allowedCertificatesPem }),
          recycleAfterBytes,
        },
        transfer,
        o,
        true,
      );
      if (!outcome.ok) {
        const error = failure(outcome, 'read', format);
        if (error.code === 'not_found') return null;
        throw error;
      }
      const { signature } = outcome.value;
      const report = summarizeManifestStore(outcome.value.manifestStoreJson, signature, format);
      return allowed === undefined ? report : applyAllowedList(report, signature.signingCertificateSha256, allowed);
    },

    async warmup(): Promise<void> {
      await startWorkers();
      // Once per engine: the optimised code stays with the shared module, so workers started
      // later (replacements) and later warm-up calls find it warm.
      if (warmupBytes > 0 && !exercised) {
        await exerciseWorkers();
        exercised = true;
      }
    },

    stats(): EngineStats {
      const running = [...submitted].filter((s) => s.started).length;
      return {
        threads: pool.threads.length,
        queued: waiting.size + submitted.size - running,
        running,
        completed,
        recycled,
        terminated,
        overBudget,
        largestMemoryBytes,
      };
    },

    onJobStart(listener) {
      jobStartListeners.add(listener);
      return () => jobStartListeners.delete(listener);
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const job of waiting.drain()) job.fail(unavailable('the C2PA engine is shut down'));
      await pool.close();
    },
  };
  return engine;
}

/**
 * The intent plans a sign task chooses from, by whether the source carries a manifest. An
 * explicit create or edit is decided here, and a definition it cannot take is refused before
 * any work is queued.
 */
function intentChoice(o: SignAssetOptions): { withManifest: IntentVariant; withoutManifest: IntentVariant } | undefined {
  if (o.intent === undefined) return undefined;
  const options = o.defaultDigitalSourceType === undefined ? {} : { defaultDigitalSourceType: o.defaultDigitalSourceType };
  const variant = (intent: 'create' | 'edit' | 'update') => intentVariant(o.manifestDefinition, intent, options);
  switch (o.intent) {
    case 'auto': {
      const asGiven = declaresParent(o.manifestDefinition);
      return { withManifest: variant('edit'), withoutManifest: asGiven ? { plan: { manifestDefinition: o.manifestDefinition, addsSourceAsParent: false } } : variant('create') };
    }
    case 'update': {
      const update = variant('update');
      return { withManifest: update, withoutManifest: 'refusal' in update ? update : { refusal: updateWithoutManifest() } };
    }
    default: {
      const fixed = variant(o.intent);
      if ('refusal' in fixed) throw new MeshError(fixed.refusal.code, fixed.refusal.message, { details: fixed.refusal.details });
      return { withManifest: fixed, withoutManifest: fixed };
    }
  }
}

function claimSignerFailure(error: unknown): MeshError {
  if (isMeshError(error)) return error;
  return new MeshError('internal', `the claim signer failed: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}
