import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing.js';
import { insertProject } from './projects.js';
import { countRateLimitHit, pruneRateLimits, uncountRateLimitHit } from './rate-limits.js';
import { claimDueDeliveries, enqueueWebhookEvent, insertWebhook, markDeliveryFailed, releaseDelivery } from './webhooks.js';

// The shared-state parts of the registry, hit concurrently: on PostgreSQL these run on several
// pooled connections at once, as several instances would.
describe(`rate-limit windows and the webhook queue on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
    await insertProject(t.db, { id: 'prj_q', name: 'Queue', description: '', defaultSignerId: null });
    await insertWebhook(t.db, { id: 'whk_q', projectId: 'prj_q', url: 'https://93.184.215.14/', events: ['asset.signed'], encryptedSecret: new Uint8Array(8) });
    await insertWebhook(t.db, { id: 'whk_other', projectId: 'prj_q', url: 'https://93.184.215.14/', events: ['api_key.revoked'], encryptedSecret: new Uint8Array(8) });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('counts concurrent calls exactly once each', async () => {
    const hits = await Promise.all(Array.from({ length: 20 }, () => countRateLimitHit(t.db, 'key:k1')));
    expect(hits.map((h) => h.current).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (const hit of hits) {
      expect(hit.elapsedSeconds).toBeGreaterThanOrEqual(0);
      expect(hit.elapsedSeconds).toBeLessThan(60);
      expect(hit.windowStart.getUTCSeconds()).toBe(0);
    }
    await uncountRateLimitHit(t.db, 'key:k1', hits[0].windowStart);
    expect((await countRateLimitHit(t.db, 'key:k1')).current).toBeGreaterThanOrEqual(20);
    expect((await countRateLimitHit(t.db, 'key:other')).current).toBe(1);
    await t.db.insertInto('rate_limits').values({ bucket: 'key:old', window_start: new Date(Date.now() - 3_600_000), count: 5 }).execute();
    expect(await pruneRateLimits(t.db)).toBe(1);
  });

  it('queues an event only for subscribed webhooks and hands each due delivery to one claimant', async () => {
    const queued: string[] = [];
    for (let i = 0; i < 10; i++) queued.push(...(await enqueueWebhookEvent(t.db, 'prj_q', 'asset.signed', { n: i })));
    expect(queued).toHaveLength(10);
    await expect(enqueueWebhookEvent(t.db, 'prj_q', 'asset.exploded' as never, {})).rejects.toMatchObject({ code: 'invalid_argument' });

    const [first, second] = await Promise.all([claimDueDeliveries(t.db, 6, 60), claimDueDeliveries(t.db, 6, 60)]);
    const claimed = [...first, ...second].map((c) => c.delivery.id);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.sort()).toEqual([...queued].sort());
    expect(first.every((c) => c.url === 'https://93.184.215.14/')).toBe(true);
    // Locked: nobody else gets them until the lock runs out or they are given back.
    expect(await claimDueDeliveries(t.db, 10, 60)).toEqual([]);

    await releaseDelivery(t.db, queued[0]);
    await markDeliveryFailed(t.db, queued[1], { statusCode: 500, error: 'HTTP 500', nextAttemptAt: new Date(Date.now() - 1000) });
    await markDeliveryFailed(t.db, queued[2], { statusCode: null, error: 'refused', nextAttemptAt: null });
    const again = await claimDueDeliveries(t.db, 10, 60);
    expect(again.map((c) => c.delivery.id).sort()).toEqual([queued[0], queued[1]].sort());
    expect(again.find((c) => c.delivery.id === queued[1])?.delivery.attempts).toBe(1);
    const failed = await t.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', queued[2]).executeTakeFirstOrThrow();
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 1, last_error: 'refused', locked_until: null });
  });
});
