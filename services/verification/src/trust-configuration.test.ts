import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '@c2pa-mesh/config';
import { verificationV1 } from '@c2pa-mesh/proto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, removeDir } from '../../../test/support/cleanup.js';
import { verificationSettingsFromEnv } from './settings.js';
import { createForeignPki, type ForeignPki } from './test-support/foreign-pki.js';
import { createVerificationTestMesh, type VerificationTestMesh } from './test-support/verification-mesh.js';
import { createdManifest, readMedia } from './test-support/media.js';
import { createTrustStore } from './trust-store.js';

const { ValidationState } = verificationV1;

let t: VerificationTestMesh;
let foreign: ForeignPki;
let foreignAsset: Uint8Array;
let meshAsset: Uint8Array;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'verification-trust-'));
  t = await createVerificationTestMesh();
  foreign = await createForeignPki('Partner Newsroom');
  foreignAsset = (
    await t.mesh.engine!.sign({ format: 'image/jpeg', asset: readMedia('no_manifest.jpg'), manifestDefinition: createdManifest('signed by a partner'), signer: foreign.claimSigner })
  ).signedAsset;
  meshAsset = (await t.sign(readMedia('no_manifest.jpg'), 'image/jpeg')).signedAsset;
});
afterAll(() => cleanUp({ mesh: () => t?.close(), dir: () => removeDir(dir) }));

const file = (name: string) => path.join(dir, name);
const logger = pino({ level: 'silent' });

describe('trust configuration', () => {
  it('trusts the mesh root always; a partner certificate only once its root is a configured anchor', async () => {
    await writeFile(file('anchors.pem'), '');
    const verification = t.verificationWith({ settings: { trustAnchorsFile: file('anchors.pem') } });
    expect((await verification.verify({ asset: meshAsset })).validationState).toBe(ValidationState.TRUSTED);
    const untrusted = await verification.verify({ asset: foreignAsset });
    expect(untrusted.validationState).toBe(ValidationState.VALID);
    expect(untrusted.errors.map((e) => e.code)).toEqual(['signingCredential.untrusted']);
    expect(untrusted.certificateStatus).toBe('NOT_ISSUED_BY_US');

    // The operator adds the partner's root to the trust list (as one adds the C2PA trust list),
    // with the titles such files carry: no restart.
    await writeFile(file('anchors.pem'), `Partner Newsroom Root CA\n${foreign.rootPem}\n`);
    const trusted = await verification.verify({ asset: foreignAsset });
    expect(trusted.validationState).toBe(ValidationState.TRUSTED);
    expect(trusted.successes.map((s) => s.code)).toContain('signingCredential.trusted');
    expect((await verification.verify({ asset: meshAsset })).validationState).toBe(ValidationState.TRUSTED);

    // A broken edit keeps the last good list in force.
    await writeFile(file('anchors.pem'), '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
    expect((await verification.verify({ asset: foreignAsset })).validationState).toBe(ValidationState.TRUSTED);

    // Taking the root out again takes the trust away.
    await writeFile(file('anchors.pem'), '\n');
    expect((await verification.verify({ asset: foreignAsset })).validationState).toBe(ValidationState.VALID);
  });

  it('trusts an end-entity certificate on the allowed list, by PEM, and reloads the list', async () => {
    await writeFile(file('allowed.pem'), '');
    const verification = t.verificationWith({ settings: { allowedCertificatesFile: file('allowed.pem') } });
    expect((await verification.verify({ asset: foreignAsset })).validationState).toBe(ValidationState.VALID);
    await writeFile(file('allowed.pem'), foreign.signerPem);
    const allowed = await verification.verify({ asset: foreignAsset });
    expect(allowed.validationState).toBe(ValidationState.TRUSTED);
    expect(allowed.successes[0]).toMatchObject({ code: 'signingCredential.trusted', explanation: expect.stringMatching(/allowed list/) });
    // The issuer on the list instead of the signer does not help.
    await writeFile(file('allowed.pem'), foreign.intermediatePem);
    expect((await verification.verify({ asset: foreignAsset })).validationState).toBe(ValidationState.VALID);
  });

  it('refuses to start with a trust file it cannot read, naming the variable', async () => {
    expect(() => createTrustStore({ rootPem: t.mesh.pki.c2paRoot.pem, anchorsFile: { path: file('missing.pem'), variable: 'MESH_TRUST_ANCHORS_FILE' }, logger })).toThrow(ConfigError);
    expect(() => createTrustStore({ rootPem: t.mesh.pki.c2paRoot.pem, anchorsFile: { path: file('missing.pem'), variable: 'MESH_TRUST_ANCHORS_FILE' }, logger })).toThrow(/MESH_TRUST_ANCHORS_FILE: cannot read/);
    await writeFile(file('bad.pem'), `${foreign.rootPem}\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`);
    expect(() => createTrustStore({ rootPem: t.mesh.pki.c2paRoot.pem, allowedFile: { path: file('bad.pem'), variable: 'MESH_ALLOWED_CERTIFICATES_FILE' }, logger })).toThrow(
      /MESH_ALLOWED_CERTIFICATES_FILE: .*certificate 2 is not a valid PEM certificate/,
    );
  });

  it('hands the engine only certificates: our root first, then the file, without duplicates', async () => {
    await writeFile(file('mixed.pem'), `# partner roots\n${foreign.rootPem}\n${t.mesh.pki.c2paRoot.pem}\n`);
    const store = createTrustStore({ rootPem: t.mesh.pki.c2paRoot.pem, anchorsFile: { path: file('mixed.pem'), variable: 'MESH_TRUST_ANCHORS_FILE' }, logger });
    const { trustAnchorsPem, allowedCertificatesPem } = await store.current();
    expect(trustAnchorsPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(trustAnchorsPem).not.toMatch(/partner roots/);
    expect(trustAnchorsPem.startsWith(t.mesh.pki.c2paRoot.pem.trim().slice(0, 100))).toBe(true);
    expect(allowedCertificatesPem).toBeUndefined();
  });
});

describe('verificationSettingsFromEnv', () => {
  it('has safe defaults', () => {
    const settings = verificationSettingsFromEnv({});
    expect(settings).toMatchObject({ verifyTimeoutMs: 30_000, batchConcurrency: 4, url: { allowHosts: [], allowHttp: false, maxRedirects: 5, timeoutMs: 20_000 } });
    expect(settings.trustAnchorsFile).toBeUndefined();
  });

  it('reads the operator variables', () => {
    const settings = verificationSettingsFromEnv({
      MESH_TRUST_ANCHORS_FILE: 'trust/anchors.pem',
      MESH_ALLOWED_CERTIFICATES_FILE: '/etc/mesh/allowed.pem',
      MESH_VERIFY_URL_ALLOW_HOSTS: '127.0.0.1, localhost,10.0.0.0/8,[::1]',
      MESH_VERIFY_URL_ALLOW_HTTP: '1',
      MESH_VERIFY_URL_TIMEOUT_MS: '5000',
      MESH_VERIFY_TIMEOUT_MS: '10000',
      MESH_VERIFY_BATCH_CONCURRENCY: '2',
    });
    expect(settings.trustAnchorsFile).toBe(path.resolve('trust/anchors.pem'));
    expect(settings.allowedCertificatesFile).toBe('/etc/mesh/allowed.pem');
    expect(settings.url).toEqual({ allowHosts: ['127.0.0.1', 'localhost', '10.0.0.0/8', '::1'], allowHttp: true, maxRedirects: 5, timeoutMs: 5000 });
    expect(settings.verifyTimeoutMs).toBe(10_000);
    expect(settings.batchConcurrency).toBe(2);
  });

  it('names the bad variable', () => {
    expect(() => verificationSettingsFromEnv({ MESH_VERIFY_URL_ALLOW_HTTP: 'maybe' })).toThrow(/MESH_VERIFY_URL_ALLOW_HTTP/);
    expect(() => verificationSettingsFromEnv({ MESH_VERIFY_URL_ALLOW_HOSTS: 'http://x/' })).toThrow(/MESH_VERIFY_URL_ALLOW_HOSTS/);
    expect(() => verificationSettingsFromEnv({ MESH_VERIFY_TIMEOUT_MS: '0' })).toThrow(/MESH_VERIFY_TIMEOUT_MS/);
    expect(() => verificationSettingsFromEnv({ MESH_VERIFY_BATCH_CONCURRENCY: 'lots' })).toThrow(/MESH_VERIFY_BATCH_CONCURRENCY/);
  });
});
