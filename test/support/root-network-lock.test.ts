import { describe, expect, it } from 'vitest';
import { lockRootNetwork, lockRootNetworkForChanges } from './root-network-lock.js';

/** Whether a promise has settled after the lock's poll had a few chances to run. */
async function settledSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  return settled;
}

describe('the root network lock', () => {
  it('lets browsers share it, keeps a change out while one runs, and keeps new browsers out while a change waits or runs', async () => {
    const first = await lockRootNetwork();
    const second = await lockRootNetwork();
    const change = lockRootNetworkForChanges();
    expect(await settledSoon(change)).toBe(false);
    // A browser that starts while the change waits goes after it.
    const late = lockRootNetwork();
    await first();
    expect(await settledSoon(change)).toBe(false);
    await second();
    const releaseChange = await change;
    expect(await settledSoon(late)).toBe(false);
    await releaseChange();
    await (await late)();
  });
});
