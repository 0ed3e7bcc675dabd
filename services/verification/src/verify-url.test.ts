import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Code, ConnectError } from '@connectrpc/connect';
import { verificationV1 } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, closeServer } from '../../../test/support/cleanup.js';
import { createVerificationTestMesh, type VerificationTestMesh } from './test-support/verification-mesh.js';
import { readMedia } from './test-support/media.js';
import type { ResolveHost } from './url-fetch.js';

const { ValidationState } = verificationV1;

/** A local web server with the routes the tests need, counting what it is asked for. */
let server: Server;
let origin: string;
let port: number;
const hits: Array<{ path: string; host: string }> = [];
let signedPng: Uint8Array;
const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  '/c.jpg': (_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(readMedia('C.jpg')),
  '/mislabelled.jpg': (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(readMedia('C.jpg')),
  '/signed.png': (_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(signedPng),
  '/redirect': (_req, res) => res.writeHead(302, { location: '/c.jpg' }).end(),
  '/to-private': (_req, res) => res.writeHead(301, { location: 'http://10.0.0.1/c.jpg' }).end(),
  '/to-file': (_req, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end(),
  '/missing': (_req, res) => res.writeHead(404).end('not here'),
  '/big-announced': (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(50 * 1024 * 1024) });
    res.write(readMedia('C.jpg'));
    // Never finishes: the service must refuse on the header alone.
  },
  '/big-chunked': (_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/wav' });
    const body = readMedia('sample1.wav');
    for (let at = 0; at < body.length; at += 16 * 1024) res.write(body.subarray(at, at + 16 * 1024));
    res.end();
  },
  '/stall': () => {
    // Headers never come.
  },
  '/drip': (_req, res) => {
    // Headers at once, then a byte now and then: the total limit, not a per-read one, ends it.
    res.writeHead(200, { 'content-type': 'image/jpeg' });
    const body = readMedia('C.jpg');
    let at = 0;
    const timer = setInterval(() => {
      if (res.destroyed || at >= body.length) return clearInterval(timer);
      res.write(body.subarray(at, ++at));
    }, 20);
  },
};
for (let i = 0; i < 7; i++) routes[`/loop${i}`] = (_req, res) => res.writeHead(302, { location: `/loop${i + 1}` }).end();

let t: VerificationTestMesh;
beforeAll(async () => {
  t = await createVerificationTestMesh();
  signedPng = (await t.sign(readMedia('sample1.png'), 'image/png')).signedAsset;
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    hits.push({ path, host: req.headers.host ?? '' });
    (routes[path] ?? ((_q: IncomingMessage, r: ServerResponse) => r.writeHead(404).end()))(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
});
afterAll(() => cleanUp({ server: () => closeServer(server), mesh: () => t?.close() }));

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => ConnectError.from(e));
const localAllowed = (extra: Parameters<VerificationTestMesh['verificationWith']>[0] = {}) =>
  t.verificationWith({ ...extra, url: { allowHosts: ['127.0.0.1'], allowHttp: true, ...extra.url } });

describe('VerifyUrl with the default policy (https, public addresses only)', () => {
  it.each([
    ['https://127.0.0.1/c.jpg', /127\.0\.0\.1 is a loopback address; VerifyUrl only fetches from public addresses/],
    ['https://localhost/c.jpg', /localhost resolves to (127\.0\.0\.1|::1), a loopback address/],
    ['https://[::1]/c.jpg', /a loopback address/],
    ['https://[::ffff:7f00:1]/c.jpg', /a loopback address/],
    ['https://2130706433/c.jpg', /127\.0\.0\.1 is a loopback address/],
    ['https://10.0.0.1/c.jpg', /a private address/],
    ['https://192.168.0.10/c.jpg', /a private address/],
    ['https://169.254.169.254/latest/meta-data/', /a cloud metadata address/],
    ['https://0.0.0.0/', /an unspecified address/],
    ['https://224.0.0.251/', /a multicast address/],
  ])('refuses %s', async (url, message) => {
    const err = await failure(t.verification().verifyUrl({ url }));
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(message);
  });

  it('refuses plain http, other schemes, credentials and non-URLs', async () => {
    for (const [url, message] of [
      [`${origin}/c.jpg`, /only https:\/\/ URLs are fetched/],
      ['ftp://example.com/c.jpg', /only https:\/\//],
      ['file:///etc/passwd', /only https:\/\//],
      ['https://user:secret@example.com/c.jpg', /credentials/],
      ['not a url', /not an absolute URL/],
      ['', /url is required/],
    ] as const) {
      const err = await failure(t.verification().verifyUrl({ url }));
      expect(err?.code, url).toBe(Code.InvalidArgument);
      expect(err?.rawMessage, url).toMatch(message);
    }
    expect(hits).toEqual([]);
  });
});

describe('VerifyUrl with an operator allowlist (http on 127.0.0.1)', () => {
  it('fetches and verifies from the allowlisted local server', async () => {
    const res = await localAllowed().verifyUrl({ url: `${origin}/c.jpg` });
    expect(res.finalUrl).toBe(`${origin}/c.jpg`);
    expect(res.fetchedBytes).toBe(BigInt(readMedia('C.jpg').length));
    expect(res.result?.validationState).toBe(ValidationState.VALID);
    expect(res.result?.errors.map((e) => e.code)).toEqual(['signingCredential.untrusted']);
    expect(res.result?.format).toBe('image/jpeg');

    const signed = await localAllowed().verifyUrl({ url: `${origin}/signed.png` });
    expect(signed.result).toMatchObject({ validationState: ValidationState.TRUSTED, registered: true, certificateStatus: 'ACTIVE', format: 'image/png' });

    const history = await t.verification().listVerifications({ assetSha256: signed.result!.assetSha256 });
    expect(history.verifications[0].source).toBe('URL');
  });

  it('takes the format from the bytes when the Content-Type is wrong', async () => {
    const res = await localAllowed().verifyUrl({ url: `${origin}/mislabelled.jpg` });
    expect(res.result?.format).toBe('image/jpeg');
  });

  it('follows redirects, checking each one', async () => {
    const res = await localAllowed().verifyUrl({ url: `${origin}/redirect` });
    expect(res.finalUrl).toBe(`${origin}/c.jpg`);
    expect(res.result?.validationState).toBe(ValidationState.VALID);

    const toPrivate = await failure(localAllowed().verifyUrl({ url: `${origin}/to-private` }));
    expect(toPrivate?.code).toBe(Code.InvalidArgument);
    expect(toPrivate?.rawMessage).toMatch(/10\.0\.0\.1 is a private address/);

    const toFile = await failure(localAllowed().verifyUrl({ url: `${origin}/to-file` }));
    expect(toFile?.code).toBe(Code.InvalidArgument);
    expect(toFile?.rawMessage).toMatch(/redirect leads to file:/);
  });

  it('stops after five redirects', async () => {
    hits.length = 0;
    const err = await failure(localAllowed().verifyUrl({ url: `${origin}/loop0` }));
    expect(err?.code).toBe(Code.FailedPrecondition);
    expect(err?.rawMessage).toMatch(/redirects more than 5 times/);
    expect(hits.map((h) => h.path)).toEqual(['/loop0', '/loop1', '/loop2', '/loop3', '/loop4', '/loop5']);
  });

  it('refuses a body larger than the caller may verify: by Content-Length before reading, and while reading', async () => {
    const limited = localAllowed({ identity: { kind: 'API_KEY', id: 'key_url', projectId: t.projectId, scopes: new Set(['verify']), limits: { maxAssetBytes: 256 * 1024, requestsPerMinute: 600 } } });
    const announced = await failure(limited.verifyUrl({ url: `${origin}/big-announced` }));
    expect(announced?.code).toBe(Code.ResourceExhausted);
    expect(announced?.rawMessage).toMatch(/announces 52428800 bytes, more than the 262144 bytes/);
    const streamed = await failure(limited.verifyUrl({ url: `${origin}/big-chunked` }));
    expect(streamed?.code).toBe(Code.ResourceExhausted);
    expect(streamed?.rawMessage).toMatch(/sent more than 262144 bytes/);
  });

  it('gives up after the total time limit', async () => {
    const err = await failure(localAllowed({ url: { timeoutMs: 300 } }).verifyUrl({ url: `${origin}/stall` }));
    expect(err?.code).toBe(Code.DeadlineExceeded);
    expect(err?.rawMessage).toMatch(/took longer than 300 ms/);
    const drip = await failure(localAllowed({ url: { timeoutMs: 400 } }).verifyUrl({ url: `${origin}/drip` }));
    expect(drip?.code).toBe(Code.DeadlineExceeded);
  });

  it('reports HTTP errors and unreachable hosts as failed_precondition', async () => {
    const missing = await failure(localAllowed().verifyUrl({ url: `${origin}/missing` }));
    expect(missing?.code).toBe(Code.FailedPrecondition);
    expect(missing?.rawMessage).toMatch(/answered HTTP 404/);
    const closed = await failure(localAllowed().verifyUrl({ url: 'http://127.0.0.1:1/c.jpg' }));
    expect(closed?.code).toBe(Code.FailedPrecondition);
    expect(closed?.rawMessage).toMatch(/connection refused/);
  });
});

describe('VerifyUrl resolves once and connects to the vetted address', () => {
  it('connects to the address it checked, whatever the name would resolve to later', async () => {
    const lookups: string[] = [];
    // A name no real resolver knows: reaching the server proves the connection used our answer.
    const resolveHost: ResolveHost = async (hostname) => {
      lookups.push(hostname);
      return [{ address: '127.0.0.1', family: 4 }];
    };
    hits.length = 0;
    const res = await localAllowed({ resolveHost }).verifyUrl({ url: `http://assets.rebind.invalid:${port}/c.jpg` });
    expect(res.result?.validationState).toBe(ValidationState.VALID);
    expect(lookups).toEqual(['assets.rebind.invalid']);
    expect(hits).toEqual([{ path: '/c.jpg', host: `assets.rebind.invalid:${port}` }]);
  });

  it('refuses a name with any internal address among its answers', async () => {
    const resolveHost: ResolveHost = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ];
    const err = await failure(t.verificationWith({ resolveHost }).verifyUrl({ url: 'https://mixed.example/c.jpg' }));
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(/mixed\.example resolves to 10\.0\.0\.7, a private address/);
  });

  it('names a host that does not resolve', async () => {
    const resolveHost: ResolveHost = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' });
    };
    const err = await failure(t.verificationWith({ resolveHost }).verifyUrl({ url: 'https://nowhere.invalid/c.jpg' }));
    expect(err?.code).toBe(Code.FailedPrecondition);
    expect(err?.rawMessage).toBe('the host nowhere.invalid could not be resolved');
  });
});
