import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshError } from '@c2pa-mesh/errors';
import type { KeyAlgorithm } from '@c2pa-mesh/key-custody';
import { TAG, children, compareBytes, contentOf, encodingOf, readOid, readSingle } from './der.js';
import { OID, createTimeStampAuthority, parseTimeStampRequest, type TimeStampAuthority } from './index.js';
import { createScratch, createTestHierarchy, type Scratch, type TestHierarchy } from './testing.js';

const POLICY = '1.3.6.1.4.1.99999.1.1';

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
    policyOid: POLICY,
    accuracyMillis: 1500,
  });
  await scratch.write('root.pem', hierarchy.root.certificate.pem);
  await scratch.write('chain.pem', hierarchy.intermediate.certificate.pem);
  await scratch.write('tsa-and-chain.pem', hierarchy.tsa.certificate.pem + hierarchy.intermediate.certificate.pem);
  await scratch.write('data.txt', 'content to time-stamp\n');
});
afterAll(async () => {
  await scratch.dispose();
});

async function query(name: string, flags: string[]): Promise<Uint8Array> {
  const result = await scratch.openssl(['ts', '-query', '-data', 'data.txt', ...flags, '-out', `${name}.tsq`]);
  expect(result.code, result.stderr).toBe(0);
  return new Uint8Array(await readFile(scratch.file(`${name}.tsq`)));
}

async function verifyReply(name: string, reply: Uint8Array, untrusted = 'chain.pem') {
  await scratch.write(`${name}.tsr`, reply);
  return scratch.openssl(['ts', '-verify', '-in', `${name}.tsr`, '-queryfile', `${name}.tsq`, '-CAfile', 'root.pem', '-untrusted', untrusted]);
}

async function replyText(name: string, reply: Uint8Array) {
  await scratch.write(`${name}.tsr`, reply);
  return (await scratch.openssl(['ts', '-reply', '-in', `${name}.tsr`, '-text'])).stdout;
}

/** The SignedData inside a TimeStampResp or a bare token. */
function signedDataOf(der: Uint8Array) {
  let top = readSingle(der, TAG.SEQUENCE);
  let parts = children(top);
  if (parts[0].tag === TAG.SEQUENCE) {
    // TimeStampResp { status, timeStampToken }
    top = parts[1];
    parts = children(top);
  }
  expect(readOid(parts[0])).toBe(OID.signedData);
  return children(children(parts[1])[0]);
}

describe('time-stamp authority', () => {
  it('grants a SHA-256 request with certReq; openssl ts -verify prints Verification: OK', async () => {
    const request = await query('cert', ['-sha256', '-cert']);
    const result = await authority.respond(request);
    expect(result.status).toBe('granted');
    expect(result.serialNumberHex).toMatch(/^[0-7][0-9a-f]{31}$/);
    const verified = await verifyReply('cert', result.response);
    expect(verified.stdout.trim(), verified.stderr).toBe('Verification: OK');

    const text = await replyText('cert', result.response);
    expect(text).toContain('Status: Granted.');
    expect(text).toContain('Version: 1');
    expect(text).toContain(`Policy OID: ${POLICY}`);
    expect(text).toContain('Hash Algorithm: sha256');
    expect(text).toContain('Accuracy: 0x01 seconds, 0x01F4 millis, unspecified micros');
    expect(text).toContain(`Serial number: 0x${result.serialNumberHex!.toUpperCase()}`);
    expect(text).toMatch(/Nonce: 0x[0-9A-F]+/);
    const queryText = (await scratch.openssl(['ts', '-query', '-in', 'cert.tsq', '-text'])).stdout;
    expect(text).toContain(queryText.match(/Nonce: (0x[0-9A-F]+)/)![0]);
    // The token carries the TSA certificate and the intermediate, DER-sorted.
    const [, , , certificates] = signedDataOf(result.response);
    expect(certificates.tag).toBe(0xa0);
    const certs = children(certificates).map((c) => Buffer.from(encodingOf(c)));
    expect(certs).toHaveLength(2);
    expect(certs.some((c) => c.equals(hierarchy.tsa.certificate.der))).toBe(true);
    expect(compareBytes(certs[0], certs[1])).toBeLessThan(0);
  });

  it('leaves certificates out without certReq; verification works with the chain given', async () => {
    const request = await query('nocert', ['-sha256']);
    const result = await authority.respond(request);
    const [, , , certificatesOrSignerInfos] = signedDataOf(result.response);
    expect(certificatesOrSignerInfos.tag).toBe(TAG.SET); // straight to signerInfos
    const withoutTsa = await verifyReply('nocert', result.response, 'chain.pem');
    expect(withoutTsa.code).not.toBe(0);
    const verified = await verifyReply('nocert', result.response, 'tsa-and-chain.pem');
    expect(verified.stdout.trim(), verified.stderr).toBe('Verification: OK');
  });

  it('grants SHA-384 and SHA-512 imprints, honours a matching policy and echoes no nonce when none was sent', async () => {
    for (const hash of ['sha384', 'sha512']) {
      const request = await query(hash, [`-${hash}`, '-cert', '-tspolicy', POLICY, '-no_nonce']);
      const parsed = parseTimeStampRequest(request);
      expect(parsed).toMatchObject({ kind: 'request', hashAlgorithm: hash, policyOid: POLICY, certReq: true });
      expect('nonce' in parsed).toBe(false);
      const result = await authority.respond(request);
      const verified = await verifyReply(hash, result.response);
      expect(verified.stdout.trim(), verified.stderr).toBe('Verification: OK');
      expect(await replyText(hash, result.response)).toContain('Nonce: unspecified');
    }
  });

  it('rejects SHA-1 and MD5 with badAlg, another policy with unacceptedPolicy', async () => {
    for (const hash of ['sha1', 'md5']) {
      const result = await authority.respond(await query(`weak-${hash}`, [`-${hash}`, '-cert']));
      expect(result).toMatchObject({ status: 'rejection', failInfo: 'badAlg' });
      expect(result.malformed).toBeUndefined(); // well-formed, just refused
      const text = await replyText(`weak-${hash}`, result.response);
      expect(text).toContain('Status: Rejected.');
      expect(text).toContain('Failure info: unrecognized or unsupported algorithm identifier');
      expect(text).toMatch(/not accepted; use SHA-256/);
    }
    const policy = await authority.respond(await query('policy', ['-sha256', '-tspolicy', '1.2.3.4']));
    expect(policy).toMatchObject({ status: 'rejection', failInfo: 'unacceptedPolicy' });
    expect(await replyText('policy', policy.response)).toContain('Failure info: the requested TSA policy is not supported by the TSA');
  });

  it('answers garbage with a rejection (status 2), never an exception', async () => {
    const garbage = await authority.respond(Uint8Array.from(randomBytes(50)));
    expect(garbage).toMatchObject({ status: 'rejection', failInfo: 'badDataFormat', malformed: true });
    const text = await replyText('garbage', garbage.response);
    expect(text).toContain('Status: Rejected.');
    expect(text).toContain('Failure info: the data submitted has the wrong format');
    expect(readSingle(garbage.response).tag).toBe(TAG.SEQUENCE);

    expect((await authority.respond(new Uint8Array(0))).failInfo).toBe('badDataFormat');
    expect((await authority.respond(hierarchy.tsa.certificate.der)).status).toBe('rejection');
    expect((await authority.respond(new Uint8Array(100_000))).failInfo).toBe('badDataFormat');
    // version 2 request
    const valid = await query('valid', ['-sha256', '-cert']);
    const v2 = Uint8Array.from(valid);
    v2[v2.indexOf(0x02) + 2] = 2; // first INTEGER is the version
    expect((await authority.respond(v2)).failInfo).toBe('badRequest');
    // wrong imprint length
    const short = parseTimeStampRequest(Uint8Array.of(0x30, 0x13, 0x02, 0x01, 0x01, 0x30, 0x0e, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x04, 0x01, 0x00));
    expect(short).toMatchObject({ kind: 'rejection', failInfo: 'badDataFormat' });
    for (let length = 0; length < valid.length; length++) {
      expect(parseTimeStampRequest(valid.subarray(0, length)).kind).toBe('rejection');
    }
    for (let i = 0; i < valid.length; i++) {
      const corrupt = Uint8Array.from(valid);
      corrupt[i] ^= 0xff;
      expect(() => parseTimeStampRequest(corrupt)).not.toThrow();
      await expect(authority.respond(corrupt)).resolves.toBeDefined();
    }
  });

  it('rejects request extensions with unacceptedExtension', async () => {
    const valid = await query('ext', ['-sha256', '-no_nonce']);
    // Append [0] Extensions { Extension { 1.2.3.4, OCTET STRING {} } } to the TimeStampReq.
    const extension = Uint8Array.of(0xa0, 0x09, 0x30, 0x07, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x04, 0x00);
    const body = contentOf(readSingle(valid));
    const withExtension = Uint8Array.of(0x30, body.length + extension.length, ...body, ...extension);
    expect(parseTimeStampRequest(withExtension)).toMatchObject({ kind: 'rejection', failInfo: 'unacceptedExtension' });
  });

  it('time-stamps an imprint for the signing service; openssl verifies the token by digest', async () => {
    const data = new TextEncoder().encode('COSE countersignature bytes');
    const imprint = createHash('sha256').update(data).digest();
    const { token, genTime, serialNumberHex } = await authority.timestamp({ hashAlgorithm: 'sha256', messageImprint: imprint });
    expect(Math.abs(genTime.getTime() - Date.now())).toBeLessThan(60_000);
    await scratch.write('token.der', token);
    const verified = await scratch.openssl([
      'ts', '-verify', '-digest', imprint.toString('hex'), '-sha256', '-in', 'token.der', '-token_in', '-CAfile', 'root.pem', '-untrusted', 'chain.pem',
    ]);
    expect(verified.stdout.trim(), verified.stderr).toBe('Verification: OK');
    const text = await scratch.openssl(['ts', '-reply', '-in', 'token.der', '-token_in', '-text']);
    expect(text.stdout).toContain(`Serial number: 0x${serialNumberHex.toUpperCase()}`);

    const other = createHash('sha256').update('something else').digest('hex');
    const mismatch = await scratch.openssl([
      'ts', '-verify', '-digest', other, '-sha256', '-in', 'token.der', '-token_in', '-CAfile', 'root.pem', '-untrusted', 'chain.pem',
    ]);
    expect(mismatch.code).not.toBe(0);

    await expect(authority.timestamp({ hashAlgorithm: 'sha256', messageImprint: imprint.subarray(0, 20) })).rejects.toBeInstanceOf(MeshError);
    await expect(authority.timestamp({ hashAlgorithm: 'sha1' as never, messageImprint: imprint })).rejects.toBeInstanceOf(MeshError);
  });

  it('writes genTime with millisecond precision in DER form, signs the attributes C2PA readers expect, and never repeats a serial', async () => {
    let now = new Date('2026-03-01T12:00:00.120Z');
    const clocked = createTimeStampAuthority({
      tsaCertificateDer: hierarchy.tsa.certificate.der,
      chainDer: [hierarchy.intermediate.certificate.der],
      signer: hierarchy.tsa.signer,
      policyOid: POLICY,
      clock: () => now,
    });
    const imprint = randomBytes(32);
    const first = await clocked.timestamp({ hashAlgorithm: 'sha256', messageImprint: imprint, nonce: Uint8Array.of(0x80, 0x01) });
    const [, , encapsulated, , signerInfos] = signedDataOf(first.token);
    const tstInfo = children(readSingle(contentOf(children(children(encapsulated)[1])[0])));
    expect(new TextDecoder().decode(contentOf(tstInfo[4]))).toBe('20260301120000.12Z');
    expect(Buffer.from(contentOf(tstInfo[6])).toString('hex')).toBe('008001'); // nonce, positive
    now = new Date('2026-03-01T12:00:01.000Z');
    const second = await clocked.timestamp({ hashAlgorithm: 'sha256', messageImprint: imprint });
    const secondInfo = children(readSingle(contentOf(children(children(signedDataOf(second.token)[2])[1])[0])));
    expect(new TextDecoder().decode(contentOf(secondInfo[4]))).toBe('20260301120001Z');
    expect(second.genTime.toISOString()).toBe('2026-03-01T12:00:01.000Z');

    const [signerInfo] = children(signerInfos);
    const signed = children(signerInfo).find((part) => part.tag === 0xa0)!;
    const attributes = children(signed);
    expect(attributes.map((a) => readOid(children(a)[0])).sort()).toEqual(
      [OID.contentType, OID.messageDigest, OID.signingTime, OID.signingCertificateV2].sort(),
    );
    for (let i = 1; i < attributes.length; i++) {
      expect(compareBytes(encodingOf(attributes[i - 1]), encodingOf(attributes[i]))).toBeLessThan(0);
    }
    const serials = new Set<string>();
    for (let i = 0; i < 200; i++) serials.add((await authority.timestamp({ hashAlgorithm: 'sha256', messageImprint: imprint })).serialNumberHex);
    expect(serials.size).toBe(200);
  });

  it('works with an ES384 TSA key, and refuses keys RFC 3161 clients cannot verify', async () => {
    const algorithm: KeyAlgorithm = 'ES384';
    const h = await createTestHierarchy('ES256', algorithm);
    const dir = await createScratch();
    try {
      const tsa = createTimeStampAuthority({
        tsaCertificateDer: h.tsa.certificate.der,
        chainDer: [h.intermediate.certificate.der],
        signer: h.tsa.signer,
        policyOid: POLICY,
      });
      await dir.write('root.pem', h.root.certificate.pem);
      await dir.write('chain.pem', h.intermediate.certificate.pem);
      await dir.write('data.txt', 'hello');
      await dir.openssl(['ts', '-query', '-data', 'data.txt', '-sha256', '-cert', '-out', 'q.tsq']);
      const result = await tsa.respond(new Uint8Array(await readFile(dir.file('q.tsq'))));
      await dir.write('r.tsr', result.response);
      const verified = await dir.openssl(['ts', '-verify', '-in', 'r.tsr', '-queryfile', 'q.tsq', '-CAfile', 'root.pem', '-untrusted', 'chain.pem']);
      expect(verified.stdout.trim(), verified.stderr).toBe('Verification: OK');
    } finally {
      await dir.dispose();
    }
    for (const unsupported of ['PS256', 'ED25519'] as const) {
      const other = await createTestHierarchy('ES256', unsupported);
      expect(() =>
        createTimeStampAuthority({ tsaCertificateDer: other.tsa.certificate.der, chainDer: [], signer: other.tsa.signer, policyOid: POLICY }),
      ).toThrow(/ES256 or ES384/);
    }
  });

  it('refuses a certificate that is not a TSA certificate, a mismatched key, or a bad policy', () => {
    const base = { chainDer: [], policyOid: POLICY };
    expect(() => createTimeStampAuthority({ ...base, tsaCertificateDer: hierarchy.signing.certificate.der, signer: hierarchy.signing.signer })).toThrow(
      /timeStamping, marked critical/,
    );
    expect(() => createTimeStampAuthority({ ...base, tsaCertificateDer: hierarchy.tsa.certificate.der, signer: hierarchy.signing.signer })).toThrow(
      /does not match/,
    );
    expect(() =>
      createTimeStampAuthority({ ...base, tsaCertificateDer: hierarchy.tsa.certificate.der, signer: hierarchy.tsa.signer, policyOid: 'policy-1' }),
    ).toThrow(MeshError);
  });
});
