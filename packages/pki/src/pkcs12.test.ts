import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshError } from '@c2pa-mesh/errors';
import { generateKeyPair, type KeyAlgorithm } from '@c2pa-mesh/key-custody';
import { buildPkcs12, issueCertificate, pemBlocks } from './index.js';
import { createScratch, createTestHierarchy, type Scratch, type TestHierarchy } from './testing.js';

let scratch: Scratch;
let hierarchy: TestHierarchy;
const PASSWORD = 'correct horse battery';

beforeAll(async () => {
  scratch = await createScratch();
  hierarchy = await createTestHierarchy('ES256');
});
afterAll(async () => {
  await scratch.dispose();
});

async function meshClient(algorithm: KeyAlgorithm) {
  const key = await generateKeyPair(algorithm);
  const certificate = await issueCertificate({
    profile: 'MESH_CLIENT',
    subject: { commonName: `partner ${algorithm}` },
    subjectPublicKeySpki: key.signer.publicKeySpki,
    issuer: { certificateDer: hierarchy.intermediate.certificate.der, signer: hierarchy.intermediate.signer },
    san: { uri: ['spiffe://c2pa-mesh/project/p1'] },
  });
  return { key, certificate };
}

describe('buildPkcs12', () => {
  it.each<KeyAlgorithm>(['ES256', 'PS256', 'ED25519'])('%s: openssl pkcs12 reads key, certificate and chain with the password', async (algorithm) => {
    const { key, certificate } = await meshClient(algorithm);
    const p12 = await buildPkcs12({
      certificateDer: certificate.der,
      chainDer: [hierarchy.intermediate.certificate.der],
      privateKeyPkcs8: key.privateKeyPkcs8,
      password: PASSWORD,
      friendlyName: 'partner client',
    });
    await scratch.write(`${algorithm}.p12`, p12);
    const read = await scratch.openssl(['pkcs12', '-in', `${algorithm}.p12`, '-passin', `pass:${PASSWORD}`, '-nodes']);
    expect(read.code, read.stderr).toBe(0);
    const blocks = pemBlocks(read.stdout);
    const certificates = blocks.filter((b) => b.label === 'CERTIFICATE').map((b) => Buffer.from(b.der));
    expect(certificates.some((c) => c.equals(certificate.der))).toBe(true);
    expect(certificates.some((c) => c.equals(hierarchy.intermediate.certificate.der))).toBe(true);
    const keyBlock = blocks.find((b) => b.label === 'PRIVATE KEY')!;
    expect(Buffer.from(keyBlock.der).equals(Buffer.from(key.privateKeyPkcs8))).toBe(true);
    expect(read.stdout).toContain('friendlyName: partner client');
    const publicKey = createPublicKey(createPrivateKey({ key: Buffer.from(keyBlock.der), format: 'der', type: 'pkcs8' })).export({ type: 'spki', format: 'der' });
    expect(publicKey.equals(Buffer.from(key.signer.publicKeySpki))).toBe(true);

    const info = await scratch.openssl(['pkcs12', '-in', `${algorithm}.p12`, '-passin', `pass:${PASSWORD}`, '-info', '-noout']);
    expect(info.stderr).toContain('MAC: sha256');
    expect(info.stderr).toMatch(/Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration \d+, PRF hmacWithSHA256/);
    expect(info.stderr).toMatch(/PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC/);

    const wrong = await scratch.openssl(['pkcs12', '-in', `${algorithm}.p12`, '-passin', 'pass:wrong password', '-nodes']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/Mac verify error|invalid password/i);
  });

  it('loads into a Node TLS context (what an mTLS client does with it)', async () => {
    const { key, certificate } = await meshClient('ES256');
    const pfx = await buildPkcs12({
      certificateDer: certificate.der,
      chainDer: [hierarchy.intermediate.certificate.der],
      privateKeyPkcs8: key.privateKeyPkcs8,
      password: PASSWORD,
    });
    expect(() => createSecureContext({ pfx: Buffer.from(pfx), passphrase: PASSWORD })).not.toThrow();
    expect(() => createSecureContext({ pfx: Buffer.from(pfx), passphrase: 'not the password' })).toThrow();
    expect(new X509Certificate(certificate.der).subject).toContain('partner ES256');
  });

  it('refuses a short password and bad inputs', async () => {
    const { key, certificate } = await meshClient('ES256');
    const base = { certificateDer: certificate.der, chainDer: [], privateKeyPkcs8: key.privateKeyPkcs8, password: PASSWORD };
    for (const options of [
      { ...base, password: 'short' },
      { ...base, privateKeyPkcs8: Uint8Array.of(1, 2, 3) },
      { ...base, certificateDer: Uint8Array.of(1, 2, 3) },
    ]) {
      const error = await buildPkcs12(options).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(MeshError);
      expect((error as MeshError).code).toBe('invalid_argument');
    }
  });
});
