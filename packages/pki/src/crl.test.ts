import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshError } from '@c2pa-mesh/errors';
import { generateKeyPair } from '@c2pa-mesh/key-custody';
import { buildCrl, issueCertificate, toPem } from './index.js';
import { createScratch, createTestHierarchy, type Scratch, type TestHierarchy } from './testing.js';

let scratch: Scratch;
let hierarchy: TestHierarchy;
const DAY = 86_400_000;

beforeAll(async () => {
  scratch = await createScratch();
  hierarchy = await createTestHierarchy('ES256');
  await scratch.write('root.pem', hierarchy.root.certificate.pem);
  await scratch.write('intermediate.pem', hierarchy.intermediate.certificate.pem);
  await scratch.write('leaf.pem', hierarchy.signing.certificate.pem);
});
afterAll(async () => {
  await scratch.dispose();
});

describe('buildCrl', () => {
  it('builds a v2 CRL that openssl verifies and lists with reasons, number and AKI', async () => {
    const now = new Date();
    const crl = await buildCrl({
      issuerCertificateDer: hierarchy.intermediate.certificate.der,
      signer: hierarchy.intermediate.signer,
      entries: [
        { serialNumberHex: hierarchy.signing.certificate.serialNumberHex, revokedAt: new Date(now.getTime() - 60_000), reason: 1 },
        { serialNumberHex: '00ff01', revokedAt: now, reason: 4 },
        { serialNumberHex: '0a', revokedAt: now },
      ],
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + DAY),
      crlNumber: 42n,
    });
    await scratch.write('c.der', crl);
    const result = await scratch.openssl(['crl', '-in', 'c.der', '-inform', 'DER', '-CAfile', 'intermediate.pem', '-noout', '-text']);
    expect(result.stderr.trim()).toBe('verify OK');
    expect(result.stdout).toContain('Version 2 (0x1)');
    expect(result.stdout).toContain('Issuer: C = DE, O = c2pa-mesh test, CN = Test C2PA Intermediate');
    expect(result.stdout).toMatch(/X509v3 CRL Number: \n\s+42\n/);
    expect(result.stdout).toContain('X509v3 Authority Key Identifier');
    expect(result.stdout).toMatch(
      new RegExp(`Serial Number: ${hierarchy.signing.certificate.serialNumberHex.toUpperCase()}\\n[\\s\\S]*?Key Compromise`),
    );
    expect(result.stdout).toMatch(/Serial Number: FF01\n[\s\S]*?Superseded/);
    expect(result.stdout).toMatch(/Serial Number: 0A\n\s+Revocation Date: [^\n]+\n\s+(Serial|Signature)/);
    // Not verifiable against another CA.
    const wrongCa = await scratch.openssl(['crl', '-in', 'c.der', '-inform', 'DER', '-CAfile', 'root.pem', '-noout']);
    expect(wrongCa.stderr).not.toContain('verify OK');
  });

  it('makes openssl verify -crl_check refuse a revoked certificate and accept a good one', async () => {
    const now = new Date();
    const crl = await buildCrl({
      issuerCertificateDer: hierarchy.intermediate.certificate.der,
      signer: hierarchy.intermediate.signer,
      entries: [{ serialNumberHex: hierarchy.signing.certificate.serialNumberHex, revokedAt: now, reason: 1 }],
      thisUpdate: new Date(now.getTime() - 60_000),
      nextUpdate: new Date(now.getTime() + DAY),
      crlNumber: 1n,
    });
    await scratch.write('crl.pem', toPem(crl, 'X509 CRL'));
    const revoked = await scratch.openssl(['verify', '-crl_check', '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem', '-CRLfile', 'crl.pem', 'leaf.pem']);
    expect(revoked.code).not.toBe(0);
    expect(revoked.stdout + revoked.stderr).toContain('certificate revoked');

    const key = await generateKeyPair('ES256');
    const fresh = await issueCertificate({
      profile: 'C2PA_SIGNING',
      subject: { commonName: 'Still good' },
      subjectPublicKeySpki: key.signer.publicKeySpki,
      issuer: { certificateDer: hierarchy.intermediate.certificate.der, signer: hierarchy.intermediate.signer },
    });
    await scratch.write('fresh.pem', fresh.pem);
    const good = await scratch.openssl(['verify', '-crl_check', '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem', '-CRLfile', 'crl.pem', 'fresh.pem']);
    expect(good.stdout.trim(), good.stderr).toBe('fresh.pem: OK');
  });

  it('builds an empty CRL and refuses bad input', async () => {
    const now = new Date();
    const base = {
      issuerCertificateDer: hierarchy.intermediate.certificate.der,
      signer: hierarchy.intermediate.signer,
      entries: [],
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + DAY),
      crlNumber: 0n,
    };
    await scratch.write('empty.der', await buildCrl(base));
    const empty = await scratch.openssl(['crl', '-in', 'empty.der', '-inform', 'DER', '-CAfile', 'intermediate.pem', '-noout', '-text']);
    expect(empty.stderr.trim()).toBe('verify OK');
    expect(empty.stdout).toContain('No Revoked Certificates.');

    const refusals: Array<Promise<unknown>> = [
      buildCrl({ ...base, entries: [{ serialNumberHex: 'xyz', revokedAt: now }] }),
      buildCrl({ ...base, entries: [{ serialNumberHex: '01', revokedAt: now, reason: 7 }] }),
      buildCrl({ ...base, nextUpdate: new Date(now.getTime() - DAY) }),
      buildCrl({ ...base, crlNumber: -1n }),
      buildCrl({ ...base, signer: hierarchy.root.signer }),
    ];
    for (const refusal of refusals) {
      const error = await refusal.then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(MeshError);
      expect((error as MeshError).code).toBe('invalid_argument');
    }
  });
});
