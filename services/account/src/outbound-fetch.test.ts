/** The address policy on identity providers: checked before a connection and at connect time. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProviderFetchPolicy } from './outbound-fetch.js';

let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((_req, res) => res.end('{"issuer":"x"}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('identity provider fetches', () => {
  it('refuses loopback, private and metadata addresses, and plain http, unless the operator allows the host', async () => {
    const strict = createProviderFetchPolicy([]);
    try {
      expect(strict.refusal(new URL(`http://127.0.0.1:${port}/`))).toMatch(/not https/);
      expect(strict.refusal(new URL('https://10.1.2.3/'))).toMatch(/a private address/);
      expect(strict.refusal(new URL('https://[::1]/'))).toMatch(/a loopback address/);
      expect(strict.refusal(new URL('https://169.254.169.254/'))).toMatch(/cloud metadata/);
      expect(strict.refusal(new URL('https://idp.example.com/'))).toBeUndefined();
      await expect(strict.fetch(`https://127.0.0.1:${port}/`, { method: 'GET' })).rejects.toThrow(/a loopback address/);
      // A name is judged by what it resolves to, when connecting: localhost is loopback.
      const byName = await strict.fetch(`https://localhost:${port}/`, { method: 'GET' }).then(
        () => 'fetched',
        (err: Error) => `${err.message} ${String((err.cause as Error | undefined)?.message)}`,
      );
      expect(byName).toMatch(/identity provider host localhost resolves to .*a loopback address.*MESH_OIDC_ALLOW_HOSTS/);
    } finally {
      await strict.close();
    }
    const allowing = createProviderFetchPolicy(['127.0.0.1']);
    try {
      expect(allowing.refusal(new URL(`http://127.0.0.1:${port}/`))).toBeUndefined();
      const res = await allowing.fetch(`http://127.0.0.1:${port}/`, { method: 'GET' });
      expect(await res.json()).toEqual({ issuer: 'x' });
      expect(allowing.refusal(new URL('http://127.0.0.2/'))).toMatch(/not https/);
    } finally {
      await allowing.close();
    }
  });
});
