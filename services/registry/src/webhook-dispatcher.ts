import { decryptPrivateKey } from '@c2pa-mesh/key-custody';
import {
  claimDueDeliveries,
  markDeliveryDelivered,
  markDeliveryFailed,
  releaseDelivery,
  type ClaimedDelivery,
  type Database,
} from '@c2pa-mesh/storage';
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import { webhookSecretAssociatedData } from './webhooks.js';
import { WEBHOOK_DELIVERY_HEADER, WEBHOOK_EVENT_HEADER, WEBHOOK_SIGNATURE_HEADER, signWebhookPayload } from './webhook-signature.js';
import type { WebhookTargetGuard } from './webhook-targets.js';

export interface WebhookDispatcherOptions {
  db: Database;
  keyEncryptionKey: Uint8Array;
  targets: WebhookTargetGuard;
  logger: Logger;
  /** How often to look for due deliveries. */
  pollMs?: number;
  /** Delay before the first retry; doubled for each further attempt (with ±10 % jitter). */
  retryBaseMs?: number;
  maxRetryDelayMs?: number;
  /** Attempts before a delivery is given up as FAILED. */
  maxAttempts?: number;
  /** Deliveries claimed (and sent in parallel) per round. */
  batchSize?: number;
  requestTimeoutMs?: number;
}

export interface WebhookDispatcher {
  /** Stops polling, lets deliveries in flight finish for a short while, gives the rest back. */
  close(): Promise<void>;
}

export const WEBHOOK_USER_AGENT = 'c2pa-mesh-webhooks/1';

/** Delay before the attempt after `attempts` failed ones; undefined when it is time to give up. */
export function retryDelayMs(attempts: number, options: { retryBaseMs: number; maxRetryDelayMs: number; maxAttempts: number }, random = Math.random): number | undefined {
  if (attempts >= options.maxAttempts) return undefined;
  const exponential = Math.min(options.retryBaseMs * 2 ** (attempts - 1), options.maxRetryDelayMs);
  return Math.round(exponential * (0.9 + 0.2 * random()));
}

/**
 * Delivers queued webhook events. The queue is the `webhook_deliveries` table: events are
 * enqueued in the transaction that makes the change they report, claimed here with a lock that
 * runs out (so a crashed instance loses nothing), sent signed, and retried with exponential
 * backoff. Every instance that runs the registry runs one; they share the work through the lock.
 */
export function startWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const { db, keyEncryptionKey, targets, logger } = options;
  const pollMs = options.pollMs ?? 1000;
  const backoff = { retryBaseMs: options.retryBaseMs ?? 10_000, maxRetryDelayMs: options.maxRetryDelayMs ?? 3_600_000, maxAttempts: options.maxAttempts ?? 12 };
  const batchSize = options.batchSize ?? 10;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  // The lock outlives a request that runs into its timeout, with room to record the outcome.
  const lockSeconds = Math.ceil(requestTimeoutMs / 1000) + 30;
  // Resolve-then-pin: the connection goes to the very addresses the guard approved.
  const agent = new Agent({ connect: { lookup: targets.lookup }, headersTimeout: requestTimeoutMs, bodyTimeout: requestTimeoutMs });
  const stopping = new AbortController();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> | undefined;

  async function deliver(claimed: ClaimedDelivery): Promise<void> {
    const { delivery, url } = claimed;
    let statusCode: number | null = null;
    let error: string;
    try {
      const target = new URL(url);
      // Literal addresses never pass through lookup: check them here.
      const literal = target.hostname.replace(/^\[|\]$/g, '');
      if (/^[\d.]+$/.test(literal) || literal.includes(':')) {
        if (!targets.addressAllowed(literal, literal)) throw new Error(`${literal} is not a public address and not allowed by MESH_WEBHOOK_ALLOW_HOSTS`);
      }
      const secret = Buffer.from(decryptPrivateKey(claimed.encryptedSecret, keyEncryptionKey, webhookSecretAssociatedData(delivery.webhook_id))).toString('utf8');
      const response = await request(url, {
        method: 'POST',
        dispatcher: agent,
        signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(requestTimeoutMs)]),
        headers: {
          'content-type': 'application/json',
          'user-agent': WEBHOOK_USER_AGENT,
          [WEBHOOK_EVENT_HEADER]: delivery.event,
          [WEBHOOK_DELIVERY_HEADER]: delivery.id,
          [WEBHOOK_SIGNATURE_HEADER]: signWebhookPayload(secret, delivery.payload, Math.floor(Date.now() / 1000)),
        },
        body: delivery.payload,
      });
      statusCode = response.statusCode;
      // The answer's body is of no interest; read it so the connection can be reused.
      await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      if (statusCode >= 200 && statusCode < 300) {
        await markDeliveryDelivered(db, delivery.id, statusCode);
        logger.debug({ deliveryId: delivery.id, webhookId: delivery.webhook_id, statusCode }, 'webhook delivered');
        return;
      }
      error = `the receiver answered HTTP ${statusCode}`;
    } catch (cause) {
      if (stopping.signal.aborted) {
        // Cut short by shutdown: not the receiver's fault, so no attempt is counted.
        await releaseDelivery(db, delivery.id).catch(() => undefined);
        return;
      }
      const err = cause as Error & { code?: string; cause?: Error & { code?: string } };
      error = [err.message, err.cause?.message].filter(Boolean).join(': ') || String(cause);
    }
    const attempts = delivery.attempts + 1;
    const delay = retryDelayMs(attempts, backoff);
    await markDeliveryFailed(db, delivery.id, { statusCode, error, nextAttemptAt: delay === undefined ? null : new Date(Date.now() + delay) });
    logger.warn({ deliveryId: delivery.id, webhookId: delivery.webhook_id, attempts, statusCode, error, retryInMs: delay }, delay === undefined ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry');
  }

  async function runRound(): Promise<void> {
    for (;;) {
      if (closed) return;
      const claimed = await claimDueDeliveries(db, batchSize, lockSeconds);
      if (claimed.length === 0) return;
      await Promise.all(claimed.map(deliver));
      if (claimed.length < batchSize) return;
    }
  }

  function schedule(): void {
    if (closed) return;
    timer = setTimeout(() => {
      round = runRound()
        .catch((err) => logger.error({ err }, 'webhook dispatch round failed; retrying at the next poll'))
        .finally(() => {
          round = undefined;
          schedule();
        });
    }, pollMs);
    timer.unref();
  }
  schedule();

  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        closed = true;
        if (timer) clearTimeout(timer);
        const inFlight = round;
        if (inFlight) {
          // Deliveries under way get a moment to finish; then they are cut and given back.
          const grace = setTimeout(() => stopping.abort(), 2000);
          grace.unref();
          await inFlight;
          clearTimeout(grace);
        }
        stopping.abort();
        await agent.close().catch(() => undefined);
      })();
      return closing;
    },
  };
}
