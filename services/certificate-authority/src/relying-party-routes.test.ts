import net from 'node:net';
import { createClient } from '@connectrpc/connect';
import * as pkijs from 'pkijs';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { encodeOcspRequest, ocspCertIdFor, pemToDer } from '@c2pa-mesh/pki';
import { CertificateAuthorityService } from '@c2pa-mesh/proto';
import { startRelyingPartyListener, type RelyingPartyListener } from '@c2pa-mesh/server';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../../../test/support/cleanup.js';
import { ocspRequestFromPath } from './relying-party-routes.js';
import { readOcspResponse } from './testing.js';

let mesh: TestMesh;
let listener: RelyingPartyListener;

beforeAll(async () => {
  mesh = await createTestMesh();
  listener = await startRelyingPartyListener({ host: '127.0.0.1', port: 0, routes: mesh.relyingPartyRoutes, logger: pino({ level: 'silent' }) });
});
afterAll(() => cleanUp({ listener: () => listener?.close(0), mesh: () => mesh?.close() }));

const admin = () => createClient(CertificateAuthorityService, mesh.transport(ADMIN_IDENTITY));

async function issueSigner(commonName: string) {
  const { certificate } = await admin().issueCertificate({ profile: 'C2PA_SIGNING', commonName });
  const der = pemToDer(certificate!.certificatePem)[0];
  return { certificate: certificate!, der };
}

async function postOcsp(body: Uint8Array, contentType = 'application/ocsp-request') {
  const response = await fetch(`${listener.url}/ocsp`, { method: 'POST', body, headers: { 'content-type': contentType } });
  return { response, der: new Uint8Array(await response.arrayBuffer()) };
}

describe('POST /ocsp and GET /ocsp/{request}', () => {
  it('pre-signs nonce-less answers and serves them unchanged until the status changes', async () => {
    const { certificate, der } = await issueSigner('Cached signer');
    const request = encodeOcspRequest([ocspCertIdFor(der, mesh.pki.c2paIntermediate.der)]);
    const first = await postOcsp(request);
    expect(first.response.headers.get('content-type')).toBe('application/ocsp-response');
    expect(readOcspResponse(first.der)).toMatchObject({ responseStatus: 0, certStatus: 'good' });
    const second = await postOcsp(request);
    // ECDSA signatures are randomised: identical bytes mean the same pre-signed response.
    expect(Buffer.from(second.der).equals(Buffer.from(first.der))).toBe(true);

    await admin().revokeCertificate({ certificateId: certificate.certificateId, reason: 4 });
    const after = await postOcsp(request);
    expect(readOcspResponse(after.der)).toMatchObject({ certStatus: 'revoked', revocationReason: 4 });
  });

  it('signs a fresh response per nonce and echoes it; SHA-256 CertIDs work too', async () => {
    const { der } = await issueSigner('Nonce signer');
    const nonce = Uint8Array.from([0x04, 0x10, ...new Array(16).fill(7)]);
    const request = encodeOcspRequest([ocspCertIdFor(der, mesh.pki.c2paIntermediate.der, 'sha256')], nonce);
    const a = await postOcsp(request);
    const b = await postOcsp(request);
    expect(readOcspResponse(a.der)).toMatchObject({ certStatus: 'good', nonce });
    expect(Buffer.from(a.der).equals(Buffer.from(b.der))).toBe(false);
  });

  it('answers GET in base64 and base64url, URL-encoded or not, with RFC 5019 caching headers', async () => {
    const { der } = await issueSigner('GET signer');
    const request = Buffer.from(encodeOcspRequest([ocspCertIdFor(der, mesh.pki.c2paIntermediate.der)]));
    const forms = [encodeURIComponent(request.toString('base64')), request.toString('base64url'), request.toString('base64')];
    const bodies: Buffer[] = [];
    for (const form of forms) {
      const response = await fetch(`${listener.url}/ocsp/${form}`);
      expect(response.status, form).toBe(200);
      bodies.push(Buffer.from(await response.arrayBuffer()));
      expect(response.headers.get('cache-control')).toMatch(/^max-age=\d+, public, no-transform, must-revalidate$/);
      expect(Number(/max-age=(\d+)/.exec(response.headers.get('cache-control')!)![1])).toBeLessThanOrEqual(300);
      expect(response.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]+"$/);
      expect(Date.parse(response.headers.get('last-modified')!)).toBeLessThanOrEqual(Date.now());
      expect(Date.parse(response.headers.get('expires')!)).toBeGreaterThan(Date.now());
    }
    expect(readOcspResponse(bodies[0])).toMatchObject({ certStatus: 'good' });
    expect(bodies.every((body) => body.equals(bodies[0]))).toBe(true);

    const etag = (await fetch(`${listener.url}/ocsp/${forms[1]}`)).headers.get('etag')!;
    const revalidated = await fetch(`${listener.url}/ocsp/${forms[1]}`, { headers: { 'if-none-match': etag } });
    expect(revalidated.status).toBe(304);
  });

  it('answers garbage with malformedRequest and foreign CAs with unauthorized, never a server error', async () => {
    for (const body of [Buffer.from('garbage'), Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]), Buffer.from([0x30, 0x80]), new Uint8Array()]) {
      const { response, der } = await postOcsp(body);
      expect(response.status).toBe(200);
      expect(readOcspResponse(der).responseStatus).toBe(1);
    }
    for (const path of ['!!!', '%zz', 'AAAA']) {
      const response = await fetch(`${listener.url}/ocsp/${path}`);
      expect(response.status, path).toBe(200);
      expect(readOcspResponse(new Uint8Array(await response.arrayBuffer())).responseStatus).toBe(1);
    }
    // A certificate of the C2PA root (the intermediate): this responder does not answer for the root.
    const unauthorized = await postOcsp(encodeOcspRequest([ocspCertIdFor(mesh.pki.c2paIntermediate.der, mesh.pki.c2paRoot.der)]));
    expect(readOcspResponse(unauthorized.der).responseStatus).toBe(6);
    // An unknown serial of our CA: unknown, and not cached (it may be issued later).
    const certId = { ...ocspCertIdFor(mesh.pki.ocspResponder.der, mesh.pki.c2paIntermediate.der), serialNumberHex: '0123456789' };
    const unknown = await postOcsp(encodeOcspRequest([certId]));
    expect(readOcspResponse(unknown.der).certStatus).toBe('unknown');
    expect(Buffer.from((await postOcsp(encodeOcspRequest([certId]))).der).equals(Buffer.from(unknown.der))).toBe(false);
    const tooLarge = await postOcsp(new Uint8Array(9000));
    expect(tooLarge.response.status).toBe(413);
  });

  it('keeps serving after a client connects and leaves without a request', async () => {
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect(listener.port, '127.0.0.1', () => socket.end());
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
    }
    const { der } = await issueSigner('After idle clients');
    const { response } = await postOcsp(encodeOcspRequest([ocspCertIdFor(der, mesh.pki.c2paIntermediate.der)]));
    expect(response.status).toBe(200);
  });

  it('reads GET paths defensively', () => {
    expect(ocspRequestFromPath('/ocsp/')).toBeUndefined();
    expect(ocspRequestFromPath('/ocsp/%E0%A4%A')).toBeUndefined();
    expect(ocspRequestFromPath('/ocsp/a b')).toEqual(new Uint8Array(Buffer.from('a+b=', 'base64')));
    expect(ocspRequestFromPath(`/ocsp/${'A'.repeat(40_000)}`)).toBeUndefined();
  });
});

describe('POST /tsa and GET /ca/crl', () => {
  it('grants a token for a well-formed query and rejects the rest with the right failInfo', async () => {
    const imprint = new Uint8Array(32).fill(1);
    const query = new pkijs.TimeStampReq({
      version: 1,
      messageImprint: new pkijs.MessageImprint({ hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: '2.16.840.1.101.3.4.2.1' }), hashedMessage: new (await import('asn1js')).OctetString({ valueHex: imprint }) }),
      certReq: true,
    });
    const granted = await fetch(`${listener.url}/tsa`, { method: 'POST', body: new Uint8Array(query.toSchema().toBER()), headers: { 'content-type': 'application/timestamp-query' } });
    expect(granted.headers.get('content-type')).toBe('application/timestamp-reply');
    const reply = pkijs.TimeStampResp.fromBER(await granted.arrayBuffer());
    expect(reply.status.status).toBe(0);
    expect(reply.timeStampToken).toBeDefined();

    const garbage = await fetch(`${listener.url}/tsa`, { method: 'POST', body: 'garbage', headers: { 'content-type': 'application/timestamp-query' } });
    expect(garbage.status).toBe(200);
    const rejected = pkijs.TimeStampResp.fromBER(await garbage.arrayBuffer());
    expect(rejected.status.status).toBe(2);
    // badDataFormat is bit 5.
    expect(rejected.status.failInfo!.valueBlock.valueHexView[0] & (0x80 >> 5)).not.toBe(0);
  });

  it('serves the CRL as DER and, with ?pem, as PEM', async () => {
    const der = await fetch(`${listener.url}/ca/crl`);
    expect(der.headers.get('content-type')).toBe('application/pkix-crl');
    const crl = pkijs.CertificateRevocationList.fromBER(await der.arrayBuffer());
    expect(crl.version).toBe(1);
    const pem = await (await fetch(`${listener.url}/ca/crl?pem`)).text();
    expect(pem).toMatch(/^-----BEGIN X509 CRL-----/);
    expect((await fetch(`${listener.url}/ca/root.crl`)).status).toBe(200);
    expect(await (await fetch(`${listener.url}/ca/tsa.pem`)).text()).toContain(mesh.pki.timeStampAuthority.pem.trim());
  });
});
