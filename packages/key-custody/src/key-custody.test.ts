import { constants, createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshError } from '@c2pa-mesh/errors';
import {
  createFileSigner,
  createMemorySigner,
  decryptPrivateKey,
  encryptPrivateKey,
  generateKeyPair,
  keyEncryptionKeyPath,
  loadKeyEncryptionKey,
  openSigner,
  writePrivateKeyPem,
  type KeyAlgorithm,
  type KeySigner,
} from './index.js';

const run = promisify(execFile);

function verifies(signer: KeySigner, data: Uint8Array, signature: Uint8Array, encoding: 'der' | 'ieee-p1363' = 'der') {
  const key = createPublicKey({ key: Buffer.from(signer.publicKeySpki), format: 'der', type: 'spki' });
  switch (signer.algorithm) {
    case 'ES256':
      return verify('sha256', data, { key, dsaEncoding: encoding }, signature);
    case 'ES384':
      return verify('sha384', data, { key, dsaEncoding: encoding }, signature);
    case 'PS256':
      return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
    case 'ED25519':
      return verify(null, data, key, signature);
  }
}

async function expectMeshError(promise: Promise<unknown> | (() => unknown), code: string, message?: RegExp) {
  let error: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(MeshError);
  expect((error as MeshError).code).toBe(code);
  if (message) expect((error as MeshError).message).toMatch(message);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'key-custody-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('signers', () => {
  const data = new TextEncoder().encode('claim bytes to sign');

  it.each<KeyAlgorithm>(['ES256', 'ES384', 'PS256', 'ED25519'])('%s: generates, signs and verifies', async (algorithm) => {
    const { signer, privateKeyPkcs8 } = await generateKeyPair(algorithm);
    expect(signer.algorithm).toBe(algorithm);
    const signature = await signer.sign(data);
    expect(verifies(signer, data, signature)).toBe(true);
    expect(verifies(signer, new TextEncoder().encode('other bytes'), signature)).toBe(false);

    const reopened = createMemorySigner(privateKeyPkcs8);
    expect(reopened.algorithm).toBe(algorithm);
    expect(Buffer.from(reopened.publicKeySpki).equals(Buffer.from(signer.publicKeySpki))).toBe(true);
    expect(verifies(signer, data, await reopened.sign(data))).toBe(true);
  });

  it('ECDSA signs in IEEE P1363 form for COSE when asked', async () => {
    const { signer } = await generateKeyPair('ES256');
    const raw = await signer.sign(data, { ecdsaEncoding: 'ieee-p1363' });
    expect(raw.length).toBe(64);
    expect(verifies(signer, data, raw, 'ieee-p1363')).toBe(true);
    const p384 = (await generateKeyPair('ES384')).signer;
    expect((await p384.sign(data, { ecdsaEncoding: 'ieee-p1363' })).length).toBe(96);
  });

  it('refuses a key that does not match the requested algorithm, weak keys and garbage', async () => {
    const { privateKeyPkcs8 } = await generateKeyPair('ES256');
    await expectMeshError(() => createMemorySigner(privateKeyPkcs8, 'ES384'), 'invalid_argument', /ES256 key, not ES384/);
    await expectMeshError(() => createMemorySigner(new Uint8Array([1, 2, 3])), 'invalid_argument', /PKCS#8/);
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'der' });
    await expectMeshError(() => createMemorySigner(weak), 'invalid_argument', /at least 2048 bits/);
    const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey.export({ type: 'pkcs8', format: 'der' });
    await expectMeshError(() => createMemorySigner(p521), 'invalid_argument', /secp521r1/);
  });

  it('reads a PKCS#8 PEM file written with mode 0600 that openssl reads too', async () => {
    const { signer, privateKeyPkcs8 } = await generateKeyPair('ES256');
    const file = path.join(dir, 'keys', 'signing-key.pem');
    await writePrivateKeyPem(file, privateKeyPkcs8);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const { stdout } = await run('openssl', ['pkey', '-in', file, '-pubout', '-outform', 'DER'], { encoding: 'buffer' });
    expect(Buffer.from(stdout).equals(Buffer.from(signer.publicKeySpki))).toBe(true);

    const fromFile = await createFileSigner(file);
    expect(fromFile.algorithm).toBe('ES256');
    expect(verifies(signer, data, await fromFile.sign(data))).toBe(true);

    // Replacing the file is atomic and keeps the mode.
    const second = await generateKeyPair('ED25519');
    await writePrivateKeyPem(file, second.privateKeyPkcs8);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await createFileSigner(file)).algorithm).toBe('ED25519');
  });

  it('reports a missing or unreadable key file clearly', async () => {
    await expectMeshError(createFileSigner(path.join(dir, 'absent.pem')), 'failed_precondition', /cannot read/);
    const notKey = path.join(dir, 'not-a-key.pem');
    await writeFile(notKey, 'hello');
    await expectMeshError(createFileSigner(notKey), 'invalid_argument', /does not hold a PEM private key/);
  });

  it('opens signers by scheme', async () => {
    expect((await openSigner('memory:')).algorithm).toBe('ES256');
    expect((await openSigner('memory:', 'ED25519')).algorithm).toBe('ED25519');
    const { privateKeyPkcs8 } = await generateKeyPair('ES384');
    const file = path.join(dir, 'tsa-key.pem');
    await writePrivateKeyPem(file, privateKeyPkcs8);
    expect((await openSigner(`file:${file}`)).algorithm).toBe('ES384');
    expect((await openSigner(`file://${file}`)).algorithm).toBe('ES384');
    await expectMeshError(openSigner(`file:${file}`, 'ES256'), 'invalid_argument');
    await expectMeshError(openSigner('kms:projects/x/keys/y'), 'unimplemented', /KMS/);
    await expectMeshError(openSigner('hsm'), 'invalid_argument', /not a signer URI/);
    await expectMeshError(openSigner('file:'), 'invalid_argument');
  });
});

describe('private keys at rest', () => {
  const kek = randomBytes(32);

  it('seals and opens a key; binds it to its associated data', async () => {
    const { privateKeyPkcs8 } = await generateKeyPair('ES256');
    const sealed = encryptPrivateKey(privateKeyPkcs8, kek, 'certificate:42');
    expect(Buffer.from(sealed).includes(Buffer.from(privateKeyPkcs8))).toBe(false);
    expect(sealed[2]).toBe(1); // version
    expect(Buffer.from(decryptPrivateKey(sealed, kek, 'certificate:42')).equals(Buffer.from(privateKeyPkcs8))).toBe(true);
    // A fresh IV each time.
    expect(Buffer.from(encryptPrivateKey(privateKeyPkcs8, kek)).equals(Buffer.from(encryptPrivateKey(privateKeyPkcs8, kek)))).toBe(false);

    await expectMeshError(() => decryptPrivateKey(sealed, randomBytes(32), 'certificate:42'), 'failed_precondition');
    await expectMeshError(() => decryptPrivateKey(sealed, kek, 'certificate:43'), 'failed_precondition');
    await expectMeshError(() => decryptPrivateKey(sealed, kek), 'failed_precondition');
    const tampered = Uint8Array.from(sealed);
    tampered[tampered.length - 1] ^= 1;
    await expectMeshError(() => decryptPrivateKey(tampered, kek, 'certificate:42'), 'failed_precondition');
    await expectMeshError(() => decryptPrivateKey(new Uint8Array(10), kek), 'invalid_argument', /not a sealed key/);
    const future = Uint8Array.from(sealed);
    future[2] = 9;
    await expectMeshError(() => decryptPrivateKey(future, kek, 'certificate:42'), 'invalid_argument', /version 9/);
    await expectMeshError(() => encryptPrivateKey(privateKeyPkcs8, new Uint8Array(16)), 'invalid_argument', /32 bytes/);
  });

  it('takes the key-encryption key from MESH_KEK, MESH_KEK_FILE, or creates one in the data dir', async () => {
    const fromEnv = await loadKeyEncryptionKey({ dataDir: dir, env: { MESH_KEK: kek.toString('base64') } });
    expect(Buffer.from(fromEnv).equals(kek)).toBe(true);
    await expectMeshError(loadKeyEncryptionKey({ dataDir: dir, env: { MESH_KEK: 'c2hvcnQ=' } }), 'invalid_argument', /32 bytes/);

    const rawFile = path.join(dir, 'kek.raw');
    await writeFile(rawFile, kek);
    expect(Buffer.from(await loadKeyEncryptionKey({ dataDir: dir, env: { MESH_KEK_FILE: rawFile } })).equals(kek)).toBe(true);
    const textFile = path.join(dir, 'kek.txt');
    await writeFile(textFile, `${kek.toString('base64')}\n`);
    expect(Buffer.from(await loadKeyEncryptionKey({ dataDir: dir, env: { MESH_KEK_FILE: textFile } })).equals(kek)).toBe(true);
    await expectMeshError(
      loadKeyEncryptionKey({ dataDir: dir, env: { MESH_KEK_FILE: path.join(dir, 'nope') } }),
      'failed_precondition',
      /MESH_KEK_FILE/,
    );

    const dataDir = path.join(dir, 'data');
    const [first, concurrent] = await Promise.all([
      loadKeyEncryptionKey({ dataDir, env: {} }),
      loadKeyEncryptionKey({ dataDir, env: {} }),
    ]);
    expect(first.length).toBe(32);
    expect(Buffer.from(concurrent).equals(Buffer.from(first))).toBe(true);
    expect((await stat(keyEncryptionKeyPath(dataDir))).mode & 0o777).toBe(0o600);
    const again = await loadKeyEncryptionKey({ dataDir, env: {} });
    expect(Buffer.from(again).equals(Buffer.from(first))).toBe(true);
  });
});
