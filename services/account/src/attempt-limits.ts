import { createHash } from 'node:crypto';
import { resourceExhausted } from '@c2pa-mesh/errors';
import { countRateLimitHit, uncountRateLimitHit, type Database } from '@c2pa-mesh/storage';

const WINDOW_SECONDS = 60;

export interface AttemptBucket {
  /** Counted in the shared rate_limits table, so that a limit holds across instances. */
  bucket: string;
  perMinute: number;
  /** Names what is limited in the refusal. */
  who: string;
}

/** Buckets of login attempts: per e-mail address (hashed: no addresses in that table) and per client address. */
export function loginBuckets(email: string, clientIp: string, limits: { perAccount: number; perAddress: number }): AttemptBucket[] {
  return [
    { bucket: `login:account:${createHash('sha256').update(email).digest('hex').slice(0, 32)}`, perMinute: limits.perAccount, who: 'this account' },
    { bucket: `login:ip:${clientIp}`, perMinute: limits.perAddress, who: `your address${clientIp ? ` (${clientIp})` : ''}` },
  ];
}

/**
 * Counts one attempt in every bucket (a sliding minute over two fixed windows, as the call
 * admission does) and refuses with `resource_exhausted` and a retry-after when one is full. A
 * refused attempt is taken back, so that waiting as told is enough.
 */
export async function countAttempt(db: Database, buckets: AttemptBucket[]): Promise<void> {
  const hits = await Promise.all(buckets.map(async (b) => ({ b, hit: await countRateLimitHit(db, b.bucket) })));
  const over = hits.find(({ b, hit }) => hit.previous * (1 - hit.elapsedSeconds / WINDOW_SECONDS) + hit.current > b.perMinute);
  if (!over) return;
  await Promise.all(hits.map(({ b, hit }) => uncountRateLimitHit(db, b.bucket, hit.windowStart)));
  const seconds = Math.max(1, Math.ceil(WINDOW_SECONDS - over.hit.elapsedSeconds));
  throw resourceExhausted(`too many attempts for ${over.b.who}: at most ${over.b.perMinute} a minute; retry in ${seconds} s`, {
    metadata: { 'retry-after': String(seconds) },
  });
}
