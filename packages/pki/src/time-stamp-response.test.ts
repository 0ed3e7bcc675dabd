import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TimeStampResponseError,
  buildTimeStampQuery,
  createTimeStampAuthority,
  parseTimeStampRequest,
  readTimeStamp,
  readTimeStampResponse,
  timeStampRejectionResponse,
  type TimeStampAuthority,
} from './index.js';
import { createScratch, createTestHierarchy, type Scratch, type TestHierarchy } from './testing.js';

/** The RFC 3161 client side, against the package's own TSA, judged by openssl where it answers. */

let scratch: Scratch;
let hierarchy: TestHierarchy;
let authority: TimeStampAuthority;

beforeAll(async () => {
  scratch = await createScratch();
  hierarchy = await createTestHierarchy('ES256');
  authority = createTimeStampAuthority({
    tsaCertificateDer: hierarchy.tsa.certificate.der,
    chainDer: [hierarchy.intermediate.certificate.der],
    signer: hierarchy.tsa.signer,
    policyOid: '1.3.6.1.4.1.99999.1.1',
  });
  await scratch.write('root.pem', hierarchy.root.certificate.pem);
  await scratch.write('chain.pem', hierarchy.intermediate.certificate.pem);
});
afterAll(async () => {
  await scratch?.dispose();
});

const data = new TextEncoder().encode('countersignature bytes');

describe('time-stamp query and response', () => {
  it('asks for SHA-256 of the data with a fresh nonce and certReq, and keeps the whole granted response', async () => {
    const query = buildTimeStampQuery(data);
    expect(Buffer.from(query.imprint)).toEqual(createHash('sha256').update(data).digest());
    expect(parseTimeStampRequest(query.der)).toMatchObject({ kind: 'request', hashAlgorithm: 'sha256', messageImprint: query.imprint, nonce: query.nonce, certReq: true });
    expect(Buffer.from(buildTimeStampQuery(data).nonce)).not.toEqual(Buffer.from(query.nonce));

    const before = Date.now();
    const answer = await authority.respond(query.der);
    const received = readTimeStampResponse(answer.response, query);
    expect(received.genTime.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(received.genTime.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    expect(Buffer.from(received.messageImprint)).toEqual(Buffer.from(query.imprint));
    // The response byte for byte, shaped as c2pa-rs's fixtures: 30 82 len len, then PKIStatusInfo
    // {granted} as 30 03 02 01 00, then the token.
    expect(Buffer.from(received.response)).toEqual(Buffer.from(answer.response));
    expect(Buffer.from(received.response.subarray(0, 2)).toString('hex')).toBe('3082');
    expect(Buffer.from(received.response.subarray(4, 9)).toString('hex')).toBe('3003020100');
    expect(Buffer.from(received.response.subarray(9)).equals(Buffer.from(received.token))).toBe(true);
    // The token carries the TSA certificate and the intermediate (certReq).
    const tokenText = Buffer.from(received.token).toString('latin1');
    expect(tokenText).toContain(Buffer.from(hierarchy.tsa.certificate.der).toString('latin1'));
    expect(tokenText).toContain(Buffer.from(hierarchy.intermediate.certificate.der).toString('latin1'));

    // openssl takes the kept response as it is, checked against the imprint alone.
    await scratch.write('granted.tsr', received.response);
    const verified = await scratch.openssl([
      'ts', '-verify', '-in', 'granted.tsr', '-digest', Buffer.from(query.imprint).toString('hex'), '-CAfile', 'root.pem', '-untrusted', 'chain.pem',
    ]);
    expect(verified.stdout.trim(), verified.stderr).toBe('Verification: OK');
  });

  it('refuses a token over other data, one without the nonce sent, a rejection, a bare token and bytes that are no response', async () => {
    const query = buildTimeStampQuery(data);
    const { response, token } = await authority.timestamp({ hashAlgorithm: 'sha256', messageImprint: query.imprint, nonce: query.nonce });
    expect(readTimeStampResponse(response, query).token).toEqual(token);
    const otherData = buildTimeStampQuery(new TextEncoder().encode('other bytes'));
    expect(() => readTimeStampResponse(response, otherData)).toThrow(/covers other data than was sent/);
    const otherNonce = { ...buildTimeStampQuery(data), imprint: query.imprint };
    expect(() => readTimeStampResponse(response, otherNonce)).toThrow(/does not carry the nonce sent/);
    expect(() => readTimeStampResponse(timeStampRejectionResponse('badAlg', 'unsupported hash'), query)).toThrow(/was not granted \(rejection: unsupported hash\)/);
    expect(() => readTimeStampResponse(token, query)).toThrow(/a bare token came back/);
    expect(() => readTimeStampResponse(new Uint8Array([1, 2, 3]), query)).toThrow(/not a DER TimeStampResp or TimeStampToken/);
    expect(() => readTimeStampResponse(new Uint8Array([1, 2, 3]), query)).toThrow(TimeStampResponseError);
  });
});

describe('readTimeStamp: what sigTst2 holds', () => {
  it('reads a TimeStampResp (as written now) and a bare TimeStampToken (as written before) alike', async () => {
    const imprint = createHash('sha256').update(data).digest();
    const { response, token, genTime } = await authority.timestamp({ hashAlgorithm: 'sha256', messageImprint: imprint });
    const fromResponse = readTimeStamp(response);
    const fromToken = readTimeStamp(token);
    expect(fromResponse.form).toBe('response');
    expect(fromToken.form).toBe('token');
    for (const read of [fromResponse, fromToken]) {
      expect(Buffer.from(read.token)).toEqual(Buffer.from(token));
      expect(Buffer.from(read.messageImprint)).toEqual(imprint);
      expect(read.genTime).toEqual(genTime);
      expect(read.hashAlgorithmOid).toBe('2.16.840.1.101.3.4.2.1');
    }
  });

  it('refuses a response that was not granted, naming the status', () => {
    expect(() => readTimeStamp(timeStampRejectionResponse('badDataFormat', 'malformed request'))).toThrow(/not granted \(rejection: malformed request\)/);
    expect(() => readTimeStamp(new Uint8Array([0x30, 0x00]))).toThrow(TimeStampResponseError);
  });
});
