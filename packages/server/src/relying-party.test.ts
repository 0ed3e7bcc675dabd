import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { startRelyingPartyListener, type RelyingPartyListener } from './relying-party.js';

interface LogLine {
  level: string;
  msg: string;
  requestId?: string;
  method?: string;
  path?: string;
  status?: number;
  durationMs?: number;
  aborted?: boolean;
}

const lines: LogLine[] = [];
let listener: RelyingPartyListener | undefined;
const seenIds: string[] = [];

beforeAll(async () => {
  // The project's logger, writing its JSON lines here instead of stdout.
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  listener = await startRelyingPartyListener({
    host: '127.0.0.1',
    port: 0,
    logger,
    routes: [
      {
        method: 'GET',
        path: '/healthz',
        handle: (request) => {
          seenIds.push(request.requestId);
          // A route cannot replace the listener's request id.
          return { status: 200, contentType: 'text/plain', body: 'ok\n', headers: { 'x-request-id': 'from-the-route' } };
        },
      },
      { method: 'POST', path: '/tsa', maxBodyBytes: 16, handle: (request) => ({ status: 200, contentType: 'application/octet-stream', body: request.body }) },
      {
        method: 'GET',
        path: '/broken',
        handle: () => {
          throw new Error('route failed');
        },
      },
    ],
  });
});

afterAll(async () => {
  await listener?.close(0);
});

/** The access line of one request; it is written when the response closes, just after the client has it. */
async function accessLine(requestId: string): Promise<LogLine> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const line = lines.find((l) => l.requestId === requestId && l.msg === 'relying-party request');
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no log line for ${requestId}; lines: ${JSON.stringify(lines)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('relying-party listener: request ids and access log', () => {
  it('gives each request a new id, sends it as x-request-id, hands it to the route and logs one JSON line', async () => {
    const first = await fetch(`${listener!.url}/healthz`);
    const second = await fetch(`${listener!.url}/healthz`);
    expect(first.status).toBe(200);
    const id = first.headers.get('x-request-id')!;
    expect(id).toMatch(/^req_[A-Za-z0-9_-]{16}$/);
    expect(second.headers.get('x-request-id')).toMatch(/^req_/);
    expect(second.headers.get('x-request-id')).not.toBe(id);
    expect(seenIds.slice(-2)).toEqual([id, second.headers.get('x-request-id')]);

    const line = await accessLine(id);
    expect(line).toMatchObject({ level: 'info', requestId: id, method: 'GET', path: '/healthz', status: 200 });
    expect(typeof line.durationMs).toBe('number');
    expect(line.durationMs).toBeGreaterThanOrEqual(0);
    expect(line.aborted).toBeUndefined();
    expect(lines.filter((l) => l.requestId === id)).toHaveLength(1);
  });

  it('keeps a valid incoming x-request-id and replaces one that is not', async () => {
    const kept = await fetch(`${listener!.url}/healthz`, { headers: { 'x-request-id': 'caller-trace:0042' } });
    expect(kept.headers.get('x-request-id')).toBe('caller-trace:0042');
    expect(await accessLine('caller-trace:0042')).toMatchObject({ status: 200, path: '/healthz' });

    for (const invalid of ['short', 'has spaces in it', 'x'.repeat(81), 'semi;colon-1234']) {
      const replaced = await fetch(`${listener!.url}/healthz`, { headers: { 'x-request-id': invalid } });
      const id = replaced.headers.get('x-request-id')!;
      expect(id, invalid).toMatch(/^req_/);
      expect(await accessLine(id)).toMatchObject({ status: 200 });
    }
  });

  it('sends and logs the id on every answer: 404, 405, 413, 500 and a POST body echoed', async () => {
    const cases: Array<[string, RequestInit, number]> = [
      ['/nothing-here', {}, 404],
      ['/tsa', {}, 405],
      ['/tsa', { method: 'POST', body: new Uint8Array(17) }, 413],
      ['/broken', {}, 500],
      ['/tsa', { method: 'POST', body: new Uint8Array([1, 2, 3]) }, 200],
    ];
    for (const [path, init, status] of cases) {
      const response = await fetch(`${listener!.url}${path}`, init);
      expect(response.status, path).toBe(status);
      await response.arrayBuffer();
      const id = response.headers.get('x-request-id')!;
      expect(id, path).toMatch(/^req_/);
      expect(await accessLine(id)).toMatchObject({ requestId: id, method: init.method ?? 'GET', path, status });
    }
    // The failure's cause is logged under the same id; the client sees only "internal error".
    const failed = lines.find((l) => l.msg === 'relying-party request failed');
    expect(failed).toMatchObject({ level: 'error', path: '/broken' });
    expect(lines.some((l) => l.requestId === failed!.requestId && l.status === 500)).toBe(true);
  });

  it('answers a request it cannot parse with 400 and an x-request-id, and logs it', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(listener!.port, '127.0.0.1', () => socket.write('NOT-HTTP\r\n\r\n'));
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.on('end', () => resolve(received));
      socket.on('error', reject);
      socket.setTimeout(5_000, () => {
        socket.destroy();
        reject(new Error('no answer'));
      });
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    const id = /\r\nx-request-id: (req_[A-Za-z0-9_-]+)\r\n/.exec(raw)?.[1];
    expect(id).toBeDefined();
    expect(lines.find((l) => l.requestId === id)).toMatchObject({ msg: 'relying-party request refused', status: 400 });
  });
});
