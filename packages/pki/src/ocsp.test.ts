import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshError } from '@c2pa-mesh/errors';
import {
  createOcspResponder,
  encodeOcspRequest,
  ocspCertIdFor,
  ocspErrorResponse,
  parseOcspRequest,
  type OcspCertStatus,
  type OcspResponder,
} from './index.js';
import { createScratch, createTestHierarchy, type Scratch, type TestHierarchy } from './testing.js';

let scratch: Scratch;
let hierarchy: TestHierarchy;
let responder: OcspResponder;
const HOUR = 3600_000;

beforeAll(async () => {
  scratch = await createScratch();
  hierarchy = await createTestHierarchy('ES256');
  responder = createOcspResponder({
    responderCertificateDer: hierarchy.ocspResponder.certificate.der,
    signer: hierarchy.ocspResponder.signer,
    issuerCertificateDer: hierarchy.intermediate.certificate.der,
  });
  await scratch.write('root.pem', hierarchy.root.certificate.pem);
  await scratch.write('intermediate.pem', hierarchy.intermediate.certificate.pem);
  await scratch.write('leaf.pem', hierarchy.signing.certificate.pem);
  await scratch.write('tsa.pem', hierarchy.tsa.certificate.pem);
});
afterAll(async () => {
  await scratch.dispose();
});

/** `openssl ocsp -issuer intermediate.pem -cert … -reqout` with extra flags; returns the request DER. */
async function opensslRequest(name: string, flags: string[], certs = ['leaf.pem']): Promise<Uint8Array> {
  const result = await scratch.openssl([
    // Digest flags must precede -cert.
    'ocsp', '-issuer', 'intermediate.pem', ...flags, ...certs.flatMap((cert) => ['-cert', cert]), '-reqout', `${name}.der`,
  ]);
  expect(result.code, result.stderr).toBe(0);
  return new Uint8Array(await readFile(scratch.file(`${name}.der`)));
}

async function respond(request: Uint8Array, statuses: OcspCertStatus[], using = responder): Promise<Uint8Array> {
  const parsed = parseOcspRequest(request);
  const now = new Date();
  return using.buildResponse({
    responses: parsed.certIds.map((certId, i) => ({ certId, status: statuses[i] })),
    ...(parsed.nonce ? { nonce: parsed.nonce } : {}),
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + HOUR),
  });
}

/** `openssl ocsp -respin … -CAfile root.pem -resp_text`, checking the nonce against `requestFile` when given. */
async function opensslCheck(name: string, response: Uint8Array, extra: string[]) {
  await scratch.write(`${name}.der`, response);
  return scratch.openssl(['ocsp', '-respin', `${name}.der`, '-issuer', 'intermediate.pem', '-CAfile', 'root.pem', '-resp_text', ...extra]);
}

function invalidArgument(fn: () => unknown): MeshError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).code).toBe('invalid_argument');
    return error as MeshError;
  }
  throw new Error('accepted');
}

describe('OCSP', () => {
  it('parses an openssl request with a nonce and answers "good"; openssl verifies response and nonce', async () => {
    const request = await opensslRequest('q-nonce', []);
    const parsed = parseOcspRequest(request);
    expect(parsed.certIds).toHaveLength(1);
    expect(parsed.certIds[0]).toEqual(ocspCertIdFor(hierarchy.signing.certificate.der, hierarchy.intermediate.certificate.der, 'sha1'));
    expect(parsed.certIds[0].serialNumberHex).toBe(hierarchy.signing.certificate.serialNumberHex);
    expect(parsed.nonce).toBeDefined();
    expect(responder.isForIssuer(parsed.certIds[0])).toBe(true);

    const response = await respond(request, [{ status: 'good' }]);
    const checked = await opensslCheck('r-good', response, ['-reqin', 'q-nonce.der']);
    expect(checked.stderr).toContain('Response verify OK');
    expect(checked.stdout).toContain('Cert Status: good');
    expect(checked.stdout).toContain('OCSP Nonce');
    expect(checked.stdout).toContain(`Responder Id: `);
    expect(checked.stdout).toMatch(/Next Update: /);
    // Responder certificate (and its issuer) travel with the response.
    expect(checked.stdout).toContain('Subject: C=DE, O=c2pa-mesh test, CN=Test OCSP Responder');
    expect(checked.stdout).toContain('Subject: C=DE, O=c2pa-mesh test, CN=Test C2PA Intermediate');
    // So a verifier holding only the root builds the responder's chain without being given the issuer.
    const rootOnly = await scratch.openssl(['ocsp', '-respin', 'r-good.der', '-CAfile', 'root.pem', '-reqin', 'q-nonce.der']);
    expect(rootOnly.stderr).toContain('Response verify OK');
  });

  it('answers nonce-less and SHA-256 requests; openssl reports the status per certificate', async () => {
    const plain = await opensslRequest('q-plain', ['-no_nonce']);
    expect(parseOcspRequest(plain).nonce).toBeUndefined();
    const good = await opensslCheck('r-plain', await respond(plain, [{ status: 'good' }]), ['-cert', 'leaf.pem', '-no_nonce']);
    expect(good.stderr).toContain('Response verify OK');
    expect(good.stdout).toMatch(/leaf\.pem: good/);

    const sha256 = await opensslRequest('q-sha256', ['-sha256']);
    const parsed = parseOcspRequest(sha256);
    expect(parsed.certIds[0].hashAlgorithm).toBe('sha256');
    expect(parsed.certIds[0].issuerNameHash).toHaveLength(32);
    expect(responder.isForIssuer(parsed.certIds[0])).toBe(true);
    const checked = await opensslCheck('r-sha256', await respond(sha256, [{ status: 'good' }]), ['-reqin', 'q-sha256.der']);
    expect(checked.stderr).toContain('Response verify OK');
    expect(checked.stdout).toContain('Hash Algorithm: sha256');
    expect(checked.stdout).toContain('Cert Status: good');
  });

  it('reports revocation with time and reason, and unknown certificates', async () => {
    const request = await opensslRequest('q-two', ['-no_nonce'], ['leaf.pem', 'tsa.pem']);
    expect(parseOcspRequest(request).certIds.map((id) => id.serialNumberHex)).toEqual([
      hierarchy.signing.certificate.serialNumberHex,
      hierarchy.tsa.certificate.serialNumberHex,
    ]);
    const revokedAt = new Date(Date.now() - 10 * 60_000);
    const response = await respond(request, [{ status: 'revoked', revokedAt, reason: 1 }, { status: 'unknown' }]);
    const checked = await opensslCheck('r-two', response, ['-cert', 'leaf.pem', '-cert', 'tsa.pem', '-no_nonce']);
    expect(checked.stderr).toContain('Response verify OK');
    expect(checked.stdout).toMatch(/leaf\.pem: revoked\n[\s\S]*Reason: keyCompromise\n\s+Revocation Time: /);
    expect(checked.stdout).toMatch(/tsa\.pem: unknown/);

    // Reason left out for "unspecified".
    const single = await opensslRequest('q-single', ['-no_nonce']);
    const unspecified = await opensslCheck('r-unspecified', await respond(single, [{ status: 'revoked', revokedAt, reason: 0 }]), [
      '-cert', 'leaf.pem', '-no_nonce',
    ]);
    expect(unspecified.stdout).toMatch(/leaf\.pem: revoked/);
    expect(unspecified.stdout).not.toContain('Reason:');
    await expect(respond(single, [{ status: 'revoked', revokedAt, reason: 7 }])).rejects.toThrow(/CRLReason/);
  });

  it('works when the CA answers for itself (no delegated responder)', async () => {
    const self = createOcspResponder({
      responderCertificateDer: hierarchy.intermediate.certificate.der,
      signer: hierarchy.intermediate.signer,
      issuerCertificateDer: hierarchy.intermediate.certificate.der,
    });
    const request = await opensslRequest('q-self', []);
    const checked = await opensslCheck('r-self', await respond(request, [{ status: 'good' }], self), ['-reqin', 'q-self.der']);
    expect(checked.stderr).toContain('Response verify OK');
  });

  it('tells which CertIDs belong to its issuer and refuses to sign for others', async () => {
    const foreign = ocspCertIdFor(hierarchy.intermediate.certificate.der, hierarchy.root.certificate.der, 'sha256');
    expect(responder.isForIssuer(foreign)).toBe(false);
    expect(responder.isForIssuer({ ...ocspCertIdFor(hierarchy.signing.certificate.der, hierarchy.intermediate.certificate.der), serialNumberHex: '01' })).toBe(true);
    const now = new Date();
    await expect(
      responder.buildResponse({ responses: [{ certId: foreign, status: { status: 'good' } }], thisUpdate: now, nextUpdate: new Date(now.getTime() + HOUR) }),
    ).rejects.toThrow(/unauthorized/);
    await expect(responder.buildResponse({ responses: [], thisUpdate: now, nextUpdate: now })).rejects.toBeInstanceOf(MeshError);
  });

  it('encodes requests that openssl and the parser read back', async () => {
    const certId = ocspCertIdFor(hierarchy.signing.certificate.der, hierarchy.intermediate.certificate.der, 'sha256');
    const nonce = Uint8Array.from([0x04, 0x10, ...randomBytes(16)]);
    const request = encodeOcspRequest([certId], nonce);
    expect(parseOcspRequest(request)).toEqual({ certIds: [certId], nonce });
    await scratch.write('ours.der', request);
    const text = await scratch.openssl(['ocsp', '-reqin', 'ours.der', '-req_text']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`Serial Number: ${certId.serialNumberHex.toUpperCase()}`);
  });

  it('refuses malformed requests with invalid_argument', async () => {
    const valid = await opensslRequest('q-valid', []);
    expect(invalidArgument(() => parseOcspRequest(new Uint8Array(0))).message).toMatch(/malformed OCSP request/);
    invalidArgument(() => parseOcspRequest(Uint8Array.from(randomBytes(64))));
    invalidArgument(() => parseOcspRequest(valid.subarray(0, valid.length - 3)));
    invalidArgument(() => parseOcspRequest(Uint8Array.from([...valid, 0])));
    invalidArgument(() => parseOcspRequest(hierarchy.signing.certificate.der));
    invalidArgument(() => parseOcspRequest(new TextEncoder().encode('GET /ocsp HTTP/1.1\r\n\r\n')));
    invalidArgument(() => parseOcspRequest(Uint8Array.of(0x30, 0x80, 0x00, 0x00)));
    invalidArgument(() => parseOcspRequest(Uint8Array.of(0x30, 0x84, 0xff, 0xff, 0xff, 0xff)));
    // CertID with an MD5 hash algorithm.
    const md5 = await opensslRequest('q-md5', ['-md5']);
    expect(invalidArgument(() => parseOcspRequest(md5)).message).toMatch(/hash algorithm/);
    // Every truncation of a valid request is refused, never a crash.
    for (let length = 0; length < valid.length; length++) invalidArgument(() => parseOcspRequest(valid.subarray(0, length)));
    // Every single-byte corruption either parses or is refused with invalid_argument.
    for (let i = 0; i < valid.length; i++) {
      const corrupt = Uint8Array.from(valid);
      corrupt[i] ^= 0xff;
      try {
        parseOcspRequest(corrupt);
      } catch (error) {
        expect((error as MeshError).code).toBe('invalid_argument');
      }
    }
  });

  it('has constant error responses openssl reads', async () => {
    for (const [status, text] of [
      ['malformedRequest', 'malformedrequest (1)'],
      ['internalError', 'internalerror (2)'],
      ['tryLater', 'trylater (3)'],
      ['sigRequired', 'sigrequired (5)'],
      ['unauthorized', 'unauthorized (6)'],
    ] as const) {
      const response = ocspErrorResponse(status);
      await scratch.write(`e-${status}.der`, response);
      const result = await scratch.openssl(['ocsp', '-respin', `e-${status}.der`, '-resp_text', '-noverify']);
      expect(result.stdout.toLowerCase()).toContain(`responder error: ${text}`);
    }
    expect(() => ocspErrorResponse('successful' as never)).toThrow(MeshError);
  });

  it('refuses a responder certificate that cannot sign OCSP responses for the issuer', () => {
    invalidArgument(() =>
      createOcspResponder({
        responderCertificateDer: hierarchy.tsa.certificate.der,
        signer: hierarchy.tsa.signer,
        issuerCertificateDer: hierarchy.intermediate.certificate.der,
      }),
    );
    invalidArgument(() =>
      createOcspResponder({
        responderCertificateDer: hierarchy.ocspResponder.certificate.der,
        signer: hierarchy.signing.signer,
        issuerCertificateDer: hierarchy.intermediate.certificate.der,
      }),
    );
    invalidArgument(() =>
      createOcspResponder({
        responderCertificateDer: hierarchy.ocspResponder.certificate.der,
        signer: hierarchy.ocspResponder.signer,
        issuerCertificateDer: hierarchy.root.certificate.der,
      }),
    );
  });
});
