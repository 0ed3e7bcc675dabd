import { Code, ConnectError, type Client } from '@connectrpc/connect';
import { CertificateAuthorityService } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../support/cleanup.js';
import { meshClient } from '../support/mesh-clients.js';
import { startMeshProcess, type MeshProcess } from '../support/start-mesh.js';
import { createScratch, type Scratch } from './ca-support.js';

/** The time-stamp authority (RFC 3161) of a running mesh, judged by `openssl ts`. */
describe('time-stamp authority (RFC 3161) against openssl', () => {
  let mesh: MeshProcess;
  let scratch: Scratch;
  let ca: Client<typeof CertificateAuthorityService>;

  beforeAll(async () => {
    mesh = await startMeshProcess();
    scratch = await createScratch();
    ca = meshClient(CertificateAuthorityService, mesh.url, { caPath: mesh.files.meshCa, certPath: mesh.files.adminCert, keyPath: mesh.files.adminKey });
    await scratch.write('data.txt', 'the bytes whose existence is being proven\n');
    // The TSA certificate with its chain, for tokens that carry no certificates.
    await scratch.write('tsa-chain.pem', await (await fetch(`${mesh.pkiUrl}/ca/tsa.pem`)).text());
  });
  afterAll(() => cleanUp({ mesh: () => mesh?.stop(), scratch: () => scratch?.dispose() }));

  async function query(name: string, ...flags: string[]) {
    const made = await scratch.openssl(['ts', '-query', '-data', 'data.txt', ...flags, '-out', `${name}.tsq`]);
    expect(made.code, made.output).toBe(0);
    return scratch.read(`${name}.tsq`);
  }

  async function post(name: string, body: Uint8Array) {
    const response = await fetch(`${mesh.pkiUrl}/tsa`, { method: 'POST', body, headers: { 'content-type': 'application/timestamp-query' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/timestamp-reply');
    await scratch.write(`${name}.tsr`, new Uint8Array(await response.arrayBuffer()));
  }

  const verify = (name: string, untrusted: string) =>
    scratch.openssl(['ts', '-verify', '-in', `${name}.tsr`, '-queryfile', `${name}.tsq`, '-CAfile', mesh.files.c2paRoot, '-untrusted', untrusted]);
  const replyText = async (name: string) => (await scratch.openssl(['ts', '-reply', '-in', `${name}.tsr`, '-text'])).stdout;

  it('grants a token openssl verifies against the C2PA root (query with -cert, chain given)', async () => {
    await post('cert', await query('cert', '-sha256', '-cert'));
    const verified = await verify('cert', mesh.files.c2paChain);
    expect(verified.stdout.trim(), verified.output).toBe('Verification: OK');
    const text = await replyText('cert');
    expect(text).toContain('Status: Granted.');
    expect(text).toContain('Version: 1');
    expect(text).toContain('Hash Algorithm: sha256');
    expect(text).toMatch(/Policy OID: 2\.25\.\d+/);
    expect(text).toMatch(/Accuracy: 0x01 seconds/);
    // The nonce openssl sent comes back.
    const sent = (await scratch.openssl(['ts', '-query', '-in', 'cert.tsq', '-text'])).stdout.match(/Nonce: (0x[0-9A-F]+)/)![1];
    expect(text).toContain(`Nonce: ${sent}`);
  });

  it('grants a token without certificates when none are asked for; it verifies given the TSA chain', async () => {
    await post('nocert', await query('nocert', '-sha256'));
    const verified = await verify('nocert', scratch.file('tsa-chain.pem'));
    expect(verified.stdout.trim(), verified.output).toBe('Verification: OK');
    // Without the TSA certificate at hand the token cannot be checked: it really carries none.
    const withoutTsa = await verify('nocert', mesh.files.c2paChain);
    expect(withoutTsa.stdout.trim()).not.toBe('Verification: OK');
  });

  it('accepts SHA-384 and SHA-512 imprints and gives every token its own serial', async () => {
    const serials = new Set<string>();
    for (const digest of ['-sha384', '-sha512', '-sha256', '-sha256']) {
      const name = `d${serials.size}`;
      await post(name, await query(name, digest, '-cert'));
      expect((await verify(name, mesh.files.c2paChain)).stdout.trim()).toBe('Verification: OK');
      serials.add((await replyText(name)).match(/Serial number: (0x[0-9A-F]+)/)![1]);
    }
    expect(serials.size).toBe(4);
  });

  it('rejects SHA-1 with badAlg and garbage with badDataFormat, as TimeStampResp rejections', async () => {
    await post('sha1', await query('sha1', '-sha1', '-cert'));
    const sha1 = await replyText('sha1');
    expect(sha1).toContain('Status: Rejected');
    expect(sha1).toContain('unrecognized or unsupported algorithm identifier');

    await post('garbage', new TextEncoder().encode('not a time-stamp query'));
    const garbage = await replyText('garbage');
    expect(garbage).toContain('Status: Rejected');
    expect(garbage).toContain('the data submitted has the wrong format');
  });

  it('time-stamps over RPC too: DER in, DER out; bytes that are not DER are invalid_argument', async () => {
    const der = await query('rpc', '-sha256', '-cert');
    const response = await ca.timestamp({ timestampQuery: der });
    expect(response.status).toBe('GRANTED');
    expect(Date.parse(response.genTime)).toBeLessThanOrEqual(Date.now());
    await scratch.write('rpc.tsr', response.timestampResponse);
    expect((await verify('rpc', mesh.files.c2paChain)).stdout.trim()).toBe('Verification: OK');
    expect((await replyText('rpc')).toLowerCase()).toContain(`serial number: 0x${response.serialNumber}`);

    const rejected = await ca.timestamp({ timestampQuery: await query('rpc-sha1', '-sha1') });
    expect(rejected.status).toBe('REJECTION');

    const err = await ca.timestamp({ timestampQuery: new TextEncoder().encode('garbage') }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
  });
});
