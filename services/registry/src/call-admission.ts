import { ANONYMOUS_REQUESTS_PER_MINUTE, type Identity } from '@c2pa-mesh/auth';
import { resourceExhausted } from '@c2pa-mesh/errors';
import { rateLimitHeaders, type CallAdmission, type RateLimitStanding } from '@c2pa-mesh/server';
import { countRateLimitHit, pruneRateLimits, uncountRateLimitHit, type Database } from '@c2pa-mesh/storage';
import type { Logger } from 'pino';

const WINDOW_SECONDS = 60;

export interface RateLimitAdmissionOptions {
  /** Calls per minute per client IP for callers without a valid credential. */
  anonymousPerMinute?: number;
  logger?: Logger;
}

/**
 * Seconds until one more call fits under `limit`, given the calls admitted in this window
 * (`current`), the previous window's count and how far into this window we are. The estimate
 * weighs the previous window by the part of it still inside the sliding minute.
 */
export function retryAfterSeconds(limit: number, current: number, previous: number, elapsed: number): number {
  // Whole seconds, rounding up, but not past a whole second that floating point missed by a hair.
  const seconds = (value: number) => Math.max(1, Math.ceil(value - 1e-9));
  const left = WINDOW_SECONDS - elapsed;
  // Still in this window: wait until enough of the previous window has slid out.
  if (previous > 0 && current + 1 <= limit) {
    const wait = WINDOW_SECONDS * (1 - (limit - current - 1) / previous) - elapsed;
    if (wait < left) return seconds(wait);
  }
  // In the next window, this window's calls become the weighted previous ones.
  const into = current > limit - 1 ? WINDOW_SECONDS * (1 - (limit - 1) / current) : 0;
  return seconds(left + into);
}

function bucketOf(identity: Identity | undefined, clientIp: string): { bucket: string; limit: number; who: string } | undefined {
  if (!identity) return undefined;
  if (!identity.limits) return undefined;
  // ANONYMOUS: the gateway's public lookups, one identity per client address (its id names it).
  if (identity.kind === 'ANONYMOUS') return { bucket: `public:${identity.id}`, limit: identity.limits.requestsPerMinute, who: `public calls from ${clientIp || 'this address'}` };
  if (identity.kind === 'USER') return { bucket: `user:${identity.id}`, limit: identity.limits.requestsPerMinute, who: 'this account' };
  const prefix = identity.kind === 'API_KEY' ? 'key' : 'cert';
  return { bucket: `${prefix}:${identity.id}`, limit: identity.limits.requestsPerMinute, who: identity.kind === 'API_KEY' ? 'this API key' : 'this client certificate' };
}

/** A limit on one named bucket: at most `limit` calls a minute; `who` names it in the refusal. */
export interface BucketLimit {
  bucket: string;
  limit: number;
  who: string;
}

/**
 * Counts one call in a bucket of the shared rate_limits table (the same sliding minute as the
 * call admission) and refuses with resource_exhausted and a retry-after when it is full; a refused
 * call is taken back. For limits that are not per identity, such as the HTTP gateway's per-route
 * limits of a drop-in API.
 */
export function createBucketLimiter(db: Database, options: { logger?: Logger } = {}): { admit(target: BucketLimit): Promise<RateLimitStanding> } {
  let lastPrune = 0;
  return {
    async admit(target) {
      const hit = await countRateLimitHit(db, target.bucket);
      const estimate = hit.previous * (1 - hit.elapsedSeconds / WINDOW_SECONDS) + hit.current;
      if (Date.now() - lastPrune > WINDOW_SECONDS * 1000) {
        lastPrune = Date.now();
        pruneRateLimits(db).catch((err) => options.logger?.warn({ err }, 'old rate-limit windows could not be pruned'));
      }
      const resetAt = Math.ceil(hit.windowStart.getTime() / 1000) + WINDOW_SECONDS;
      if (estimate <= target.limit) return { limit: target.limit, remaining: Math.max(0, Math.floor(target.limit - estimate)), resetAt };
      // A refused call does not count: a client that honours retry-after gets in then.
      await uncountRateLimitHit(db, target.bucket, hit.windowStart);
      const seconds = retryAfterSeconds(target.limit, hit.current - 1, hit.previous, hit.elapsedSeconds);
      throw resourceExhausted(`rate limit exceeded: ${target.limit} requests per minute for ${target.who}; retry in ${seconds} s`, {
        metadata: { 'retry-after': String(seconds), ...rateLimitHeaders({ limit: target.limit, remaining: 0, resetAt: Math.ceil(Date.now() / 1000) + seconds }) },
      });
    },
  };
}

/**
 * Rate limits counted in the database, so that they hold across every instance: per API key or
 * bound certificate (its requests_per_minute), and per client IP for calls without a valid
 * credential. The mesh's own identities (admin certificate, services) are not limited. A sliding
 * window over two fixed one-minute windows: no burst of twice the limit at a window boundary.
 */
export function createRateLimitAdmission(db: Database, options: RateLimitAdmissionOptions = {}): CallAdmission {
  const anonymousPerMinute = options.anonymousPerMinute ?? ANONYMOUS_REQUESTS_PER_MINUTE;
  const buckets = createBucketLimiter(db, options);

  return {
    async admit({ identity, clientIp }) {
      const target = identity ? bucketOf(identity, clientIp) : { bucket: `ip:${clientIp}`, limit: anonymousPerMinute, who: `calls without a valid credential from ${clientIp || 'this address'}` };
      if (!target) return;
      return buckets.admit(target);
    },
  };
}
