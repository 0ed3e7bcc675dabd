import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoseSign1, claimSignatureReserveSize, createEngine, type C2paEngine, type ClaimSigner } from '@c2pa-mesh/engine';
import type { KeyAlgorithm } from '@c2pa-mesh/key-custody';
import { createOcspResponder, createTimeStampAuthority, ocspCertIdFor, type OcspCertStatus } from './index.js';
import { createTestHierarchy, type TestHierarchy } from './testing.js';

/**
 * c2pa-rs (through the engine) judges what this package makes: the certificate profiles, a
 * time-stamp token from createTimeStampAuthority and an OCSP staple from createOcspResponder.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const jpeg = new Uint8Array(readFileSync(path.resolve(repoRoot, 'test/fixtures/media/no_manifest.jpg')));
const manifest = JSON.stringify({
  title: 'pki interop',
  claim_generator_info: [{ name: 'c2pa-mesh-pki-test', version: '1.0.0' }],
  assertions: [
    {
      label: 'c2pa.actions',
      data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia' }] },
    },
  ],
});

let engine: C2paEngine;
let hierarchy: TestHierarchy;

beforeAll(async () => {
  engine = createEngine({ threads: 1 });
  [hierarchy] = await Promise.all([createTestHierarchy('ES256'), engine.warmup()]);
});
afterAll(async () => {
  await engine?.close();
});

const COSE_ALG: Record<KeyAlgorithm, ClaimSigner['alg']> = { ES256: 'es256', ES384: 'es384', PS256: 'ps256', ED25519: 'ed25519' };

async function signAndRead(h: TestHierarchy, status?: OcspCertStatus) {
  const tsa = createTimeStampAuthority({
    tsaCertificateDer: h.tsa.certificate.der,
    chainDer: [h.intermediate.certificate.der],
    signer: h.tsa.signer,
    policyOid: '1.3.6.1.4.1.99999.1.1',
  });
  let ocsp: Uint8Array | undefined;
  if (status) {
    const responder = createOcspResponder({
      responderCertificateDer: h.ocspResponder.certificate.der,
      signer: h.ocspResponder.signer,
      issuerCertificateDer: h.intermediate.certificate.der,
    });
    const now = new Date();
    ocsp = await responder.buildResponse({
      responses: [{ certId: ocspCertIdFor(h.signing.certificate.der, h.intermediate.certificate.der), status }],
      thisUpdate: new Date(now.getTime() - 60_000),
      nextUpdate: new Date(now.getTime() + 3_600_000),
    });
  }
  const alg = COSE_ALG[h.signing.signer.algorithm];
  const chain = [h.signing.certificate.der, h.intermediate.certificate.der];
  const reserveSize = claimSignatureReserveSize({ alg, certificateChainDer: chain, timeStamp: true, ocspResponseLength: ocsp?.length });
  const signer: ClaimSigner = {
    alg,
    reserveSize,
    sign: (claim) =>
      buildCoseSign1({
        alg,
        certificateChainDer: chain,
        claim,
        signSigStructure: (data) => h.signing.signer.sign(data, { ecdsaEncoding: 'ieee-p1363' }),
        timeStamp: async (data) =>
          (await tsa.timestamp({ hashAlgorithm: 'sha256', messageImprint: createHash('sha256').update(data).digest() })).response,
        ...(ocsp ? { ocspResponses: [ocsp] } : {}),
        reserveSize,
      }),
  };
  const signed = await engine.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: manifest, signer });
  const report = await engine.read({ format: 'image/jpeg', asset: signed.signedAsset, trustAnchorsPem: h.root.certificate.pem });
  return {
    state: report?.validationState,
    errors: report?.errors.map((e) => e.code) ?? [],
    successes: report?.successes.map((e) => e.code) ?? [],
  };
}

describe('c2pa-rs accepts the PKI', () => {
  it('reads Trusted with our time-stamp and a "good" staple from our responder', async () => {
    const result = await signAndRead(hierarchy, { status: 'good' });
    expect(result.errors).toEqual([]);
    expect(result.state).toBe('Trusted');
    expect(result.successes).toEqual(
      expect.arrayContaining(['signingCredential.trusted', 'timeStamp.validated', 'timeStamp.trusted', 'signingCredential.ocsp.notRevoked']),
    );
  });

  it('reads Invalid with signingCredential.ocsp.revoked when our responder says revoked', async () => {
    const result = await signAndRead(hierarchy, { status: 'revoked', revokedAt: new Date(Date.now() - 3_600_000), reason: 1 });
    expect(result.state).toBe('Invalid');
    expect(result.errors).toContain('signingCredential.ocsp.revoked');
  });

  it.each<KeyAlgorithm>(['ES384', 'PS256', 'ED25519'])('accepts a %s C2PA signing certificate from the same profile', async (algorithm) => {
    const result = await signAndRead(await createTestHierarchy('ES256', algorithm, 'ES256'));
    expect(result.errors).toEqual([]);
    expect(result.state).toBe('Trusted');
  });
});
