import { pino } from 'pino';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { startMetricsListener } from './metrics-listener.js';

describe('the operations listener', () => {
  it('answers /readyz with 503 naming each check that is not ready, a hung one included, and /livez with 200', async () => {
    const registry = new Registry();
    let databaseUp = false;
    const listener = await startMetricsListener({
      host: '127.0.0.1',
      port: 0,
      registry,
      logger: pino({ level: 'silent' }),
      readiness: [
        { name: 'database', check: async () => (databaseUp ? undefined : 'query failed (ECONNREFUSED)') },
        { name: 'engine', check: () => new Promise<string | undefined>(() => undefined) },
        { name: 'ca', check: () => undefined },
        {
          name: 'rpc',
          check: () => {
            throw new Error('boom');
          },
        },
      ],
    });
    try {
      const started = Date.now();
      const notReady = await fetch(`${listener.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.text()).toBe('database: not ready: query failed (ECONNREFUSED)\nengine: not ready: no answer within 2000 ms\nca: ok\nrpc: not ready: boom\n');
      expect(Date.now() - started).toBeLessThan(10_000);
      databaseUp = true;
      expect((await fetch(`${listener.url}/livez`)).status).toBe(200);
      expect((await fetch(`${listener.url}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await listener.close(0);
    }
  });

  it('serves the registry it is given, so that two meshes in one process keep their metrics apart', async () => {
    const registries = [new Registry(), new Registry()];
    // The same metric name in both: prom-client's global registry would refuse the second.
    const counters = registries.map((registry) => new Counter({ name: 'c2pamesh_test_calls_total', help: 'calls', registers: [registry] }));
    counters[1].inc(2);
    const listeners = await Promise.all(registries.map((registry) => startMetricsListener({ host: '127.0.0.1', port: 0, registry, readiness: [], logger: pino({ level: 'silent' }) })));
    try {
      const texts = await Promise.all(listeners.map(async (l) => (await fetch(`${l.url}/metrics`)).text()));
      expect(texts[0]).toContain('c2pamesh_test_calls_total 0\n');
      expect(texts[1]).toContain('c2pamesh_test_calls_total 2\n');
      const ready = await fetch(`${listeners[0].url}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      await Promise.all(listeners.map((l) => l.close(0)));
    }
  });
});
