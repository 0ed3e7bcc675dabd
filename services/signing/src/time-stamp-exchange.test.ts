import { createHash } from 'node:crypto';
import { createClient } from '@connectrpc/connect';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { parseTimeStampRequest, timeStampRejectionResponse } from '@c2pa-mesh/pki';
import { CertificateAuthorityService } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTimeStampQuery, readTimeStampResponse } from './time-stamp-exchange.js';

/** The RFC 3161 client side, against the mesh's own TSA (CertificateAuthorityService.Timestamp). */

let mesh: TestMesh;
beforeAll(async () => {
  mesh = await createTestMesh();
});
afterAll(async () => {
  await mesh?.close();
});

const data = new TextEncoder().encode('countersignature bytes');
const askTsa = async (der: Uint8Array) =>
  (await createClient(CertificateAuthorityService, mesh.transport(ADMIN_IDENTITY)).timestamp({ timestampQuery: der })).timestampResponse;

describe('time-stamp exchange', () => {
  it('asks for SHA-256 of the data with a fresh nonce and certReq, and reads the token and genTime back', async () => {
    const query = buildTimeStampQuery(data);
    expect(Buffer.from(query.imprint)).toEqual(createHash('sha256').update(data).digest());
    expect(parseTimeStampRequest(query.der)).toMatchObject({ kind: 'request', hashAlgorithm: 'sha256', messageImprint: query.imprint, nonce: query.nonce, certReq: true });
    expect(Buffer.from(buildTimeStampQuery(data).nonce)).not.toEqual(Buffer.from(query.nonce));
    const before = Date.now();
    const { token, genTime } = readTimeStampResponse(await askTsa(query.der), query);
    expect(genTime.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(genTime.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    // A ContentInfo (SEQUENCE) carrying the TSA certificate and the intermediate (certReq).
    expect(token[0]).toBe(0x30);
    const tokenText = Buffer.from(token).toString('latin1');
    expect(tokenText).toContain(Buffer.from(mesh.pki.timeStampAuthority.der).toString('latin1'));
    expect(tokenText).toContain(Buffer.from(mesh.pki.c2paIntermediate.der).toString('latin1'));
  });

  it('refuses a token over other data, one without our nonce, and a rejection', async () => {
    const query = buildTimeStampQuery(data);
    const response = await askTsa(query.der);
    const otherData = buildTimeStampQuery(new TextEncoder().encode('other bytes'));
    expect(() => readTimeStampResponse(response, otherData)).toThrow(/covers other data than was sent/);
    const otherNonce = { ...buildTimeStampQuery(data), imprint: query.imprint };
    expect(() => readTimeStampResponse(response, otherNonce)).toThrow(/does not carry the nonce sent/);
    expect(() => readTimeStampResponse(timeStampRejectionResponse('badAlg', 'unsupported hash'), query)).toThrow(/was not granted \(rejection: unsupported hash\)/);
    expect(() => readTimeStampResponse(new Uint8Array([1, 2, 3]), query)).toThrow(/not a DER TimeStampResp with a token/);
    try {
      readTimeStampResponse(new Uint8Array([1, 2, 3]), query);
    } catch (error) {
      expect(error).toMatchObject({ code: 'unavailable' });
    }
  });
});
