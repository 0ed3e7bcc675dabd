import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from './database.js';

/** A port that accepts connections and never answers: what a wrong port or a stuck proxy looks like. */
let silent: net.Server;
let port: number;
const accepted: net.Socket[] = [];

beforeAll(async () => {
  silent = net.createServer((socket) => {
    accepted.push(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  port = (silent.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const socket of accepted) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

it('opening PostgreSQL on a port that never answers fails within the connect timeout, saying where and what to check', async () => {
  const opened = openDatabase({ databaseUrl: `postgres://mesh:secret@127.0.0.1:${port}/mesh`, connectTimeoutMs: 500 });
  const error = await opened.then(() => undefined, (e: Error) => e);
  expect(error?.message).toBe(`the database at 127.0.0.1:${port}/mesh did not answer within 500 ms (MESH_DATABASE_CONNECT_TIMEOUT_MS); is it a PostgreSQL server, and is it up?`);
  expect(error?.message).not.toContain('secret');
  expect(accepted.length).toBeGreaterThan(0);
});
