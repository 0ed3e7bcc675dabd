import { describe, expect, it } from 'vitest';
import { FairQueue, type FairnessKey } from './fair-queue.js';

const key = (tenant: string, caller = 'k1'): FairnessKey => ({ tenant, caller });

/** Takes everything out of `queue`, in the order it gives it. */
function order<T>(queue: FairQueue<T>): T[] {
  const out: T[] = [];
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) out.push(item);
  return out;
}

describe('FairQueue', () => {
  it('gives a tenant that arrives after a flood the very next turn', () => {
    const queue = new FairQueue<string>();
    // A's first job took its turn at once (a free worker), the other 19 wait.
    queue.push(key('A'), 'A1');
    expect(queue.shift()).toBe('A1');
    for (let i = 2; i <= 20; i++) queue.push(key('A'), `A${i}`);
    queue.push(key('B'), 'B1');
    expect(order(queue)).toEqual(['B1', ...Array.from({ length: 19 }, (_, i) => `A${i + 2}`)]);
  });

  it('takes turns between tenants that both wait, first come first within a tenant', () => {
    const queue = new FairQueue<string>();
    for (let i = 1; i <= 3; i++) queue.push(key('A'), `A${i}`);
    for (let i = 1; i <= 3; i++) queue.push(key('B'), `B${i}`);
    queue.push(key('C'), 'C1');
    expect(order(queue)).toEqual(['A1', 'B1', 'C1', 'A2', 'B2', 'A3', 'B3']);
  });

  it("takes turns between a tenant's callers too, so one key cannot crowd out its project's others", () => {
    const queue = new FairQueue<string>();
    for (let i = 1; i <= 3; i++) queue.push(key('P', 'noisy'), `n${i}`);
    queue.push(key('P', 'quiet'), 'q1');
    queue.push(key('Q'), 'Q1');
    // P and Q alternate; within P, noisy and quiet alternate.
    expect(order(queue)).toEqual(['n1', 'Q1', 'q1', 'n2', 'n3']);
  });

  it('gives no credit for idle time: a tenant served recently waits behind one served earlier', () => {
    const queue = new FairQueue<string>();
    queue.push(key('A'), 'A1');
    queue.push(key('B'), 'B1');
    expect(order(queue)).toEqual(['A1', 'B1']);
    // Both come back; A was served before B, so A goes first, once.
    queue.push(key('B'), 'B2');
    queue.push(key('B'), 'B3');
    queue.push(key('A'), 'A2');
    expect(order(queue)).toEqual(['A2', 'B2', 'B3']);
  });

  it('counts per tenant and removes a waiting job', () => {
    const queue = new FairQueue<string>();
    queue.push(key('A', 'x'), 'A1');
    queue.push(key('A', 'y'), 'A2');
    queue.push(key('B'), 'B1');
    expect([queue.size, queue.sizeOf('A'), queue.sizeOf('B'), queue.sizeOf('C')]).toEqual([3, 2, 1, 0]);
    expect(queue.remove(key('A', 'x'), 'A1')).toBe(true);
    expect(queue.remove(key('A', 'x'), 'A1')).toBe(false);
    expect(queue.remove(key('B'), 'nope')).toBe(false);
    expect([queue.size, queue.sizeOf('A')]).toEqual([2, 1]);
    expect(queue.drain().sort()).toEqual(['A2', 'B1']);
    expect(queue.size).toBe(0);
    expect(queue.shift()).toBeUndefined();
  });
});
