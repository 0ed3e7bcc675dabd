import { describe, expect, it } from 'vitest';
import type { CertificateRow } from '@c2pa-mesh/storage';
import { createStatusRowCache } from './status-row-cache.js';

const row = (id: string, issuer: string | null = 'crt_issuer') => ({ id, issuer_id: issuer, serial_number: `0${id.length}` }) as unknown as CertificateRow;

describe('status row cache', () => {
  it('reads each record once while caching, again after any status change', async () => {
    const cache = createStatusRowCache({ caching: () => true, maxEntries: 10 });
    let loads = 0;
    const load = async () => {
      loads++;
      return row('crt_a');
    };
    await cache.byId('crt_a', load);
    await cache.byId('crt_a', load);
    expect(loads).toBe(1);
    cache.clear();
    await cache.byId('crt_a', load);
    expect(loads).toBe(2);
  });

  it('keeps nothing while status changes cannot be heard, and no misses or self-signed records', async () => {
    let caching = false;
    const cache = createStatusRowCache({ caching: () => caching, maxEntries: 10 });
    await cache.byId('crt_a', async () => row('crt_a'));
    expect(cache.size).toBe(0);
    caching = true;
    await cache.byId('crt_missing', async () => undefined);
    await cache.bySerial('01', async () => []);
    await cache.byId('crt_root', async () => row('crt_root', null));
    expect(cache.size).toBe(0);
  });

  it('does not store what a lookup read before a status change that happened meanwhile', async () => {
    const cache = createStatusRowCache({ caching: () => true, maxEntries: 10 });
    let release!: (r: CertificateRow) => void;
    const slow = cache.byId('crt_a', () => new Promise<CertificateRow>((resolve) => (release = resolve)));
    cache.clear();
    release(row('crt_a'));
    await slow;
    expect(cache.size).toBe(0);
  });

  it('is bounded', async () => {
    const cache = createStatusRowCache({ caching: () => true, maxEntries: 3 });
    for (const id of ['a', 'b', 'c', 'd', 'e']) await cache.byId(id, async () => row(id));
    expect(cache.size).toBe(3);
  });
});
