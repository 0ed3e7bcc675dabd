/** A signal for one piece of work: aborted by its caller or by a time limit, whichever is first. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** Whether the time limit (not the caller) aborted the work. */
  readonly expired: boolean;
  /** Starts the clock (for a deadline made with `startNow: false`); later calls do nothing. */
  start(): void;
  /** The work is over: stops the clock and stops listening to the caller. */
  release(): void;
}

/**
 * Like `AbortSignal.any([caller, AbortSignal.timeout(ms)])`, but released when the work ends.
 * Those two keep a timer running for the whole limit and leave a listener on the caller's signal,
 * which Connect aborts when each call ends: every finished task would then wake its listeners
 * (and the worker pool's) again, and its timer fire seconds later. Here both are gone at release.
 */
export function createDeadline(caller: AbortSignal | undefined, timeoutMs: number, options: { startNow?: boolean } = {}): Deadline {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  let released = false;
  const forward = () => controller.abort(caller?.reason);
  if (caller?.aborted) forward();
  else caller?.addEventListener('abort', forward, { once: true });
  const deadline: Deadline = {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    start() {
      if (timer !== undefined || released) return;
      timer = setTimeout(() => {
        expired = true;
        controller.abort();
      }, timeoutMs);
    },
    release() {
      released = true;
      clearTimeout(timer);
      caller?.removeEventListener('abort', forward);
    },
  };
  if (options.startNow !== false) deadline.start();
  return deadline;
}
