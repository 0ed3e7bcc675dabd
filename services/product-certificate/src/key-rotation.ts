import type { Logger } from 'pino';
import type { ProofAlgorithm, ProofKeyRing } from './proof-keys.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface ProofKeyRotation {
  /** Rotates now when the active key is due; true when it did. */
  runOnce(now?: Date): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Replaces the active proof key once it is `everyDays` old, checked every `checkMs`. Retired keys
 * stay in the JWKS while certificates signed with them are live; re-issuing a certificate
 * (UpdateProductCertificate) signs it with the new key.
 */
export function startProofKeyRotation(options: { keys: ProofKeyRing; everyDays: number; algorithm: ProofAlgorithm; logger: Logger; checkMs?: number }): ProofKeyRotation {
  const { keys, everyDays, algorithm, logger } = options;
  let running: Promise<unknown> = Promise.resolve();

  async function runOnce(now = new Date()): Promise<boolean> {
    if (everyDays <= 0) return false;
    const active = await keys.activeKey();
    if (now.getTime() - active.created_at.getTime() < everyDays * DAY_MS) return false;
    const next = await keys.rotate(algorithm);
    logger.info({ retired: active.kid, kid: next.kid, algorithm }, 'product-certificate proof key rotated on schedule');
    return true;
  }

  const timer =
    everyDays > 0
      ? setInterval(() => {
          running = runOnce().catch((err) => logger.error({ err }, 'scheduled proof key rotation failed; retrying at the next check'));
        }, options.checkMs ?? 60 * 60 * 1000)
      : undefined;
  timer?.unref();

  return {
    runOnce,
    async close() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
