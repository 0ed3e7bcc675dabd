import { readFile } from 'node:fs/promises';
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshError } from '@c2pa-mesh/errors';
import { children, encodingOf, readSingle, sequence } from './der.js';
import { issueCertificate, parseCertificate, parseCertificationRequest, pemToDer, toPem } from './index.js';
import { createScratch, createTestHierarchy, type Scratch, type TestHierarchy } from './testing.js';

let scratch: Scratch;
let hierarchy: TestHierarchy;

beforeAll(async () => {
  scratch = await createScratch();
  hierarchy = await createTestHierarchy('ES256');
});
afterAll(async () => {
  await scratch.dispose();
});

/** A CSR made by `openssl req -new` with a fresh key of `keySpec` (`-newkey` argument and options). */
async function opensslCsr(name: string, newkey: string[], subject: string, extra: string[] = []) {
  const result = await scratch.openssl([
    'req', '-new', '-nodes', ...newkey, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', subject, ...extra,
  ]);
  expect(result.code, result.stderr).toBe(0);
  return {
    pem: await readFile(scratch.file(`${name}.csr`), 'utf8'),
    keyPem: await readFile(scratch.file(`${name}-key.pem`), 'utf8'),
  };
}

function refusal(input: string | Uint8Array): MeshError {
  try {
    parseCertificationRequest(input);
  } catch (error) {
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).code).toBe('invalid_argument');
    return error as MeshError;
  }
  throw new Error('the CSR was accepted');
}

describe('parseCertificationRequest', () => {
  it('reads an EC P-256 CSR from openssl req, checks its signature, and the CA certifies it', async () => {
    const csr = await opensslCsr('p256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/C=DE/O=Newsroom/CN=Photo Desk', [
      '-addext', 'subjectAltName=DNS:desk.example.com,URI:spiffe://c2pa-mesh/partner/news,IP:192.0.2.7',
    ]);
    const request = parseCertificationRequest(csr.pem);
    expect(request.subject).toMatchObject({ commonName: 'Photo Desk', organization: 'Newsroom', country: 'DE' });
    expect(request.keyAlgorithm).toBe('ES256');
    expect(request.sanDns).toEqual(['desk.example.com']);
    expect(request.sanUris).toEqual(['spiffe://c2pa-mesh/partner/news']);
    expect(request.sanIps).toEqual(['192.0.2.7']);
    const spki = createPublicKey(csr.keyPem).export({ type: 'spki', format: 'der' });
    expect(Buffer.from(request.subjectPublicKeySpki).equals(spki)).toBe(true);

    const issued = await issueCertificate({
      profile: 'C2PA_SIGNING',
      subject: { commonName: request.subject.commonName!, organization: request.subject.organization },
      subjectPublicKeySpki: request.subjectPublicKeySpki,
      issuer: { certificateDer: hierarchy.intermediate.certificate.der, signer: hierarchy.intermediate.signer },
    });
    await scratch.write('root.pem', hierarchy.root.certificate.pem);
    await scratch.write('intermediate.pem', hierarchy.intermediate.certificate.pem);
    await scratch.write('from-csr.pem', issued.pem);
    const verified = await scratch.openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem', 'from-csr.pem']);
    expect(verified.stdout.trim(), verified.stderr).toBe('from-csr.pem: OK');
    // The certificate certifies the key in the CSR: openssl pairs it with the CSR's private key.
    const certKey = await scratch.openssl(['x509', '-in', 'from-csr.pem', '-noout', '-pubkey']);
    const csrKey = await scratch.openssl(['pkey', '-in', 'p256-key.pem', '-pubout']);
    expect(certKey.stdout).toBe(csrKey.stdout);
    expect(parseCertificate(issued.der).spkiSha256Hex).toMatch(/^[0-9a-f]{64}$/);
  });

  it('accepts P-384, RSA 2048 (PKCS#1 v1.5 and PSS signatures) and Ed25519 CSRs, in PEM or DER', async () => {
    const p384 = await opensslCsr('p384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-sha384'], '/CN=p384');
    expect(parseCertificationRequest(p384.pem).keyAlgorithm).toBe('ES384');
    const rsa = await opensslCsr('rsa', ['-newkey', 'rsa:2048'], '/CN=rsa');
    expect(parseCertificationRequest(rsa.pem).keyAlgorithm).toBe('PS256');
    const pss = await opensslCsr('pss', ['-newkey', 'rsa:2048', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'], '/CN=pss');
    expect(parseCertificationRequest(pss.pem).subject.commonName).toBe('pss');
    const ed25519 = await opensslCsr('ed25519', ['-newkey', 'ed25519'], '/CN=ed25519');
    const der = pemToDer(ed25519.pem)[0];
    expect(parseCertificationRequest(der).keyAlgorithm).toBe('ED25519');
    expect(parseCertificationRequest(toPem(der, 'CERTIFICATE REQUEST')).subject.text).toBe('CN=ed25519');
  });

  it('refuses a CSR whose signature is broken', async () => {
    const csr = await opensslCsr('broken', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=Original Name');
    const der = pemToDer(csr.pem)[0];
    // Change one character of the subject: the structure stays valid, the signature no longer matches.
    const tampered = Uint8Array.from(der);
    const at = Buffer.from(tampered).indexOf('Original');
    tampered[at] = 'X'.charCodeAt(0);
    expect(refusal(toPem(tampered, 'CERTIFICATE REQUEST')).message).toMatch(/signature does not verify/);
    // And the same request info carrying a signature made by another key.
    const other = await opensslCsr('other', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=Original Name');
    const [info, algorithm] = children(readSingle(der));
    const [, , otherSignature] = children(readSingle(pemToDer(other.pem)[0]));
    const spliced = sequence(encodingOf(info), encodingOf(algorithm), encodingOf(otherSignature));
    expect(refusal(spliced).message).toMatch(/signature does not verify/);
  });

  it('refuses keys outside the policy and garbage', async () => {
    const weak = await opensslCsr('weak', ['-newkey', 'rsa:1024'], '/CN=weak');
    expect(refusal(weak.pem).message).toMatch(/at least 2048 bits/);
    const p521 = await opensslCsr('p521', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521'], '/CN=p521');
    expect(refusal(p521.pem).message).toMatch(/secp521r1/);
    expect(refusal('not a csr').message).toMatch(/BEGIN CERTIFICATE REQUEST/);
    expect(refusal(toPem(Uint8Array.of(1, 2, 3, 4), 'CERTIFICATE REQUEST')).message).toMatch(/not a PKCS#10/);
    expect(refusal(hierarchy.signing.certificate.der).message).toMatch(/not a PKCS#10/);
    expect(refusal(new Uint8Array(100_000)).message).toMatch(/larger than/);
  });
});
