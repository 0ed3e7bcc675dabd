import { createPublicKey, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshError } from '@c2pa-mesh/errors';
import { generateKeyPair, type KeyAlgorithm } from '@c2pa-mesh/key-custody';
import { OID, issueCertificate, parseCertificate, pemToDer, toPem, type CertificateProfile } from './index.js';
import { createScratch, createTestHierarchy, TEST_URLS, type Scratch, type TestHierarchy } from './testing.js';

function meshError(fn: () => unknown): MeshError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MeshError);
    return error as MeshError;
  }
  throw new Error('expected a MeshError');
}

async function rejects(promise: Promise<unknown>): Promise<MeshError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(MeshError);
    return error as MeshError;
  }
  throw new Error('expected a MeshError');
}

let scratch: Scratch;
let hierarchy: TestHierarchy;

beforeAll(async () => {
  scratch = await createScratch();
  hierarchy = await createTestHierarchy('ES256');
  await scratch.write('root.pem', hierarchy.root.certificate.pem);
  await scratch.write('intermediate.pem', hierarchy.intermediate.certificate.pem);
});
afterAll(async () => {
  await scratch.dispose();
});

describe('issueCertificate', () => {
  it.each<KeyAlgorithm>(['ES256', 'ES384', 'PS256', 'ED25519'])(
    '%s chain: openssl verifies root → intermediate → C2PA signing, and node:crypto agrees',
    async (algorithm) => {
      const h = algorithm === 'ES256' ? hierarchy : await createTestHierarchy(algorithm);
      const dir = await createScratch();
      try {
        await dir.write('root.pem', h.root.certificate.pem);
        await dir.write('intermediate.pem', h.intermediate.certificate.pem);
        for (const [name, identity] of Object.entries({ signing: h.signing, ocsp: h.ocspResponder, tsa: h.tsa })) {
          await dir.write(`${name}.pem`, identity.certificate.pem);
          const result = await dir.openssl(['verify', '-x509_strict', '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem', `${name}.pem`]);
          expect(result.stdout.trim(), result.stderr).toBe(`${name}.pem: OK`);
        }
        // An independent parser checks the signature too.
        const leaf = new X509Certificate(h.signing.certificate.der);
        expect(leaf.verify(new X509Certificate(h.intermediate.certificate.der).publicKey)).toBe(true);
        expect(leaf.checkIssued(new X509Certificate(h.intermediate.certificate.der))).toBe(true);
      } finally {
        await dir.dispose();
      }
    },
  );

  it('writes the C2PA signing profile c2pa-rs expects', async () => {
    const info = parseCertificate(hierarchy.signing.certificate.pem);
    expect(info.isCa).toBe(false);
    expect(info.keyUsage).toEqual(['digitalSignature']);
    expect(info.extendedKeyUsage).toEqual([OID.c2paSigning, OID.documentSigning, OID.emailProtection]);
    expect(info.extendedKeyUsage).not.toContain(OID.anyExtendedKeyUsage);
    expect(info.criticalExtensions).toEqual([OID.keyUsage]);
    expect(info.ocspUrls).toEqual([TEST_URLS.ocspUrl]);
    expect(info.caIssuersUrls).toEqual([TEST_URLS.caIssuersUrl]);
    expect(info.crlUrls).toEqual([TEST_URLS.crlUrl]);
    expect(info.subjectKeyIdentifierHex).toMatch(/^[0-9a-f]{40}$/);
    expect(info.authorityKeyIdentifierHex).toBe(parseCertificate(hierarchy.intermediate.certificate.der).subjectKeyIdentifierHex);
    expect(info.subject).toMatchObject({ commonName: 'Test Signer', organization: 'c2pa-mesh test', country: 'DE' });
    expect(info.subject.text).toBe('CN=Test Signer,O=c2pa-mesh test,C=DE');
    expect(info.issuer.commonName).toBe('Test C2PA Intermediate');
    expect(info.keyAlgorithm).toBe('ES256');
    expect(info.serialNumberHex).toBe(hierarchy.signing.certificate.serialNumberHex);

    const text = await scratch.openssl(['x509', '-noout', '-text'], hierarchy.signing.certificate.pem);
    expect(text.stdout).toContain('X509v3 Key Usage: critical\n                Digital Signature\n');
    expect(text.stdout).toContain('1.3.6.1.4.1.62558.2.1, 1.3.6.1.5.5.7.3.36, E-mail Protection');
    expect(text.stdout).toContain('CA:FALSE');
    expect(text.stdout).toContain(`OCSP - URI:${TEST_URLS.ocspUrl}`);
    expect(text.stdout).toContain(`CA Issuers - URI:${TEST_URLS.caIssuersUrl}`);
    expect(text.stdout).toMatch(/CRL Distribution Points:\s+Full Name:\s+URI:http:\/\/127\.0\.0\.1:8080\/ca\/crl/);
    expect(text.stdout).toContain('X509v3 Authority Key Identifier');
    expect(text.stdout).toContain('X509v3 Subject Key Identifier');
  });

  it('writes CA, OCSP responder and TSA profiles', async () => {
    const root = parseCertificate(hierarchy.root.certificate.der);
    expect(root).toMatchObject({ isCa: true, selfIssued: true, keyUsage: ['keyCertSign', 'cRLSign'] });
    expect(root.criticalExtensions).toEqual([OID.basicConstraints, OID.keyUsage]);
    expect(root.pathLength).toBeUndefined();
    expect(root.authorityKeyIdentifierHex).toBe(root.subjectKeyIdentifierHex);

    const intermediate = parseCertificate(hierarchy.intermediate.certificate.der);
    expect(intermediate).toMatchObject({ isCa: true, pathLength: 0, selfIssued: false, keyUsage: ['keyCertSign', 'cRLSign'] });
    expect(intermediate.crlUrls).toEqual([TEST_URLS.crlUrl]);

    const ocsp = parseCertificate(hierarchy.ocspResponder.certificate.der);
    expect(ocsp).toMatchObject({ isCa: false, keyUsage: ['digitalSignature'], extendedKeyUsage: [OID.ocspSigning] });
    const ocspText = await scratch.openssl(['x509', '-noout', '-text'], hierarchy.ocspResponder.certificate.pem);
    expect(ocspText.stdout).toContain('OCSP Signing');
    expect(ocspText.stdout).toContain('OCSP No Check');

    const tsa = parseCertificate(hierarchy.tsa.certificate.der);
    expect(tsa).toMatchObject({ isCa: false, keyUsage: ['digitalSignature', 'nonRepudiation'], extendedKeyUsage: [OID.timeStamping] });
    expect(tsa.criticalExtensions).toContain(OID.extKeyUsage);
    const tsaText = await scratch.openssl(['x509', '-noout', '-text'], hierarchy.tsa.certificate.pem);
    expect(tsaText.stdout).toMatch(/X509v3 Extended Key Usage: critical\s+Time Stamping\n/);
    // openssl's own purpose check for time-stamping signers (RFC 3161 §2.3).
    await scratch.write('tsa.pem', hierarchy.tsa.certificate.pem);
    const purpose = await scratch.openssl(['verify', '-purpose', 'timestampsign', '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem', 'tsa.pem']);
    expect(purpose.stdout.trim(), purpose.stderr).toBe('tsa.pem: OK');
  });

  it('issues mesh client and server certificates with SANs, usable for TLS', async () => {
    const meshCaKey = await generateKeyPair('ES256');
    const meshCa = await issueCertificate({
      profile: 'MESH_CA',
      subject: { commonName: 'Mesh CA' },
      subjectPublicKeySpki: meshCaKey.signer.publicKeySpki,
      issuer: { selfSigned: meshCaKey.signer },
    });
    const serverKey = await generateKeyPair('ES256');
    const server = await issueCertificate({
      profile: 'MESH_SERVER',
      subject: { commonName: 'localhost' },
      subjectPublicKeySpki: serverKey.signer.publicKeySpki,
      issuer: { certificateDer: meshCa.der, signer: meshCaKey.signer },
      san: { dns: ['localhost'], ip: ['127.0.0.1', '::1'] },
    });
    const clientKey = await generateKeyPair('ED25519');
    const client = await issueCertificate({
      profile: 'MESH_CLIENT',
      subject: { commonName: 'signing service', organization: 'c2pa-mesh' },
      subjectPublicKeySpki: clientKey.signer.publicKeySpki,
      issuer: { certificateDer: meshCa.der, signer: meshCaKey.signer },
      san: { uri: ['spiffe://c2pa-mesh/service/signing'] },
    });
    const serverInfo = parseCertificate(server.der);
    expect(serverInfo.sanDns).toEqual(['localhost']);
    expect(serverInfo.sanIps).toEqual(['127.0.0.1', '::1']);
    expect(serverInfo.keyUsage).toEqual(['digitalSignature', 'keyEncipherment']);
    expect(serverInfo.extendedKeyUsage).toEqual([OID.serverAuth, OID.clientAuth]);
    const clientInfo = parseCertificate(client.der);
    expect(clientInfo.sanUris).toEqual(['spiffe://c2pa-mesh/service/signing']);
    expect(clientInfo.extendedKeyUsage).toEqual([OID.clientAuth]);
    expect(clientInfo.keyAlgorithm).toBe('ED25519');

    await scratch.write('mesh-ca.pem', meshCa.pem);
    await scratch.write('server.pem', server.pem);
    await scratch.write('client.pem', client.pem);
    const serverCheck = await scratch.openssl(['verify', '-purpose', 'sslserver', '-verify_hostname', 'localhost', '-CAfile', 'mesh-ca.pem', 'server.pem']);
    expect(serverCheck.stdout.trim(), serverCheck.stderr).toBe('server.pem: OK');
    const ipCheck = await scratch.openssl(['verify', '-purpose', 'sslserver', '-verify_ip', '127.0.0.1', '-CAfile', 'mesh-ca.pem', 'server.pem']);
    expect(ipCheck.stdout.trim(), ipCheck.stderr).toBe('server.pem: OK');
    const clientCheck = await scratch.openssl(['verify', '-purpose', 'sslclient', '-CAfile', 'mesh-ca.pem', 'client.pem']);
    expect(clientCheck.stdout.trim(), clientCheck.stderr).toBe('client.pem: OK');
    // A client certificate is no server certificate.
    const wrongPurpose = await scratch.openssl(['verify', '-purpose', 'sslserver', '-CAfile', 'mesh-ca.pem', 'client.pem']);
    expect(wrongPurpose.code).not.toBe(0);
  });

  it('uses random positive 16-byte serials, or the one given', async () => {
    const key = await generateKeyPair('ES256');
    const issue = (serialNumber?: Uint8Array) =>
      issueCertificate({
        profile: 'C2PA_SIGNING',
        subject: { commonName: 'serials' },
        subjectPublicKeySpki: key.signer.publicKeySpki,
        issuer: { certificateDer: hierarchy.intermediate.certificate.der, signer: hierarchy.intermediate.signer },
        ...(serialNumber ? { serialNumber } : {}),
      });
    const serials = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const { serialNumberHex, der } = await issue();
      expect(serialNumberHex).toMatch(/^[0-7][0-9a-f]{31}$/);
      expect(parseCertificate(der).serialNumberHex).toBe(serialNumberHex);
      serials.add(serialNumberHex);
    }
    expect(serials.size).toBe(20);
    const fixed = await issue(Uint8Array.of(0x80, 0x01));
    expect(fixed.serialNumberHex).toBe('8001');
    expect(new X509Certificate(fixed.der).serialNumber).toBe('8001');
    expect((await rejects(issue(new Uint8Array(21).fill(1)))).code).toBe('invalid_argument');
    expect((await rejects(issue(Uint8Array.of(0)))).code).toBe('invalid_argument');
  });

  it('honours validity options and never outlives its issuer', async () => {
    const key = await generateKeyPair('ES256');
    const base = {
      profile: 'C2PA_SIGNING' as const,
      subject: { commonName: 'validity' },
      subjectPublicKeySpki: key.signer.publicKeySpki,
      issuer: { certificateDer: hierarchy.intermediate.certificate.der, signer: hierarchy.intermediate.signer },
    };
    const before = Date.now();
    const week = await issueCertificate({ ...base, validityDays: 7 });
    expect(week.notBefore.getTime()).toBeLessThanOrEqual(before - 4 * 60_000);
    expect(Math.round((week.notAfter.getTime() - before) / 86_400_000)).toBe(7);
    const parsed = parseCertificate(week.der);
    expect(parsed.notBefore.getTime()).toBe(week.notBefore.getTime());
    expect(parsed.notAfter.getTime()).toBe(week.notAfter.getTime());

    const long = await issueCertificate({ ...base, validityDays: 20 * 365 });
    expect(long.notAfter.getTime()).toBe(parseCertificate(hierarchy.intermediate.certificate.der).notAfter.getTime());

    const explicit = await issueCertificate({ ...base, notBefore: new Date('2026-01-01T00:00:00.500Z'), notAfter: new Date('2026-06-01T00:00:00Z') });
    expect(explicit.notBefore.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect((await rejects(issueCertificate({ ...base, notBefore: new Date('2026-06-01'), notAfter: new Date('2026-01-01') }))).code).toBe(
      'invalid_argument',
    );
    expect((await rejects(issueCertificate({ ...base, validityDays: 0 }))).code).toBe('invalid_argument');
  });

  it('refuses inconsistent requests with a clear message', async () => {
    const key = await generateKeyPair('ES256');
    const leafIssuer = { certificateDer: hierarchy.intermediate.certificate.der, signer: hierarchy.intermediate.signer };
    const base = { subject: { commonName: 'x' }, subjectPublicKeySpki: key.signer.publicKeySpki };
    const cases: Array<[string, Promise<unknown>, RegExp]> = [
      ['leaf self-signed', issueCertificate({ ...base, profile: 'C2PA_SIGNING', issuer: { selfSigned: key.signer } }), /issued by a CA/],
      ['root with issuer', issueCertificate({ ...base, profile: 'ROOT_CA', issuer: leafIssuer }), /self-signed/],
      ['unknown profile', issueCertificate({ ...base, profile: 'WHATEVER' as CertificateProfile, issuer: leafIssuer }), /unknown certificate profile/],
      [
        'issuer not a CA',
        issueCertificate({ ...base, profile: 'C2PA_SIGNING', issuer: { certificateDer: hierarchy.signing.certificate.der, signer: hierarchy.signing.signer } }),
        /not a CA certificate/,
      ],
      [
        'signer does not match issuer',
        issueCertificate({ ...base, profile: 'C2PA_SIGNING', issuer: { certificateDer: hierarchy.intermediate.certificate.der, signer: key.signer } }),
        /does not match the issuer certificate/,
      ],
      ['self-signed with another key', issueCertificate({ ...base, profile: 'ROOT_CA', issuer: { selfSigned: hierarchy.root.signer } }), /own public key/],
      ['empty common name', issueCertificate({ ...base, subject: { commonName: '' }, profile: 'C2PA_SIGNING', issuer: leafIssuer }), /commonName/],
      ['bad country', issueCertificate({ ...base, subject: { commonName: 'x', country: 'Germany' }, profile: 'C2PA_SIGNING', issuer: leafIssuer }), /country/],
      ['bad SAN DNS', issueCertificate({ ...base, profile: 'MESH_SERVER', issuer: leafIssuer, san: { dns: ['not a host'] } }), /SAN DNS/],
      ['bad SAN IP', issueCertificate({ ...base, profile: 'MESH_SERVER', issuer: leafIssuer, san: { ip: ['300.1.1.1'] } }), /SAN IP/],
      ['bad OCSP URL', issueCertificate({ ...base, profile: 'C2PA_SIGNING', issuer: leafIssuer, ocspUrl: 'ftp://x' }), /http/],
      ['pathLength on a leaf', issueCertificate({ ...base, profile: 'C2PA_SIGNING', issuer: leafIssuer, pathLength: 1 }), /pathLength/],
      ['garbage key', issueCertificate({ ...base, subjectPublicKeySpki: Uint8Array.of(1, 2, 3), profile: 'C2PA_SIGNING', issuer: leafIssuer }), /SubjectPublicKeyInfo/],
    ];
    for (const [name, promise, message] of cases) {
      const error = await rejects(promise);
      expect(error.message, name).toMatch(message);
      expect(['invalid_argument', 'failed_precondition'], name).toContain(error.code);
    }
  });

  it('parses PEM and DER, and refuses garbage', () => {
    const der = hierarchy.signing.certificate.der;
    const [fromPem] = pemToDer(toPem(der));
    expect(Buffer.from(fromPem).equals(Buffer.from(der))).toBe(true);
    expect(parseCertificate(toPem(der)).serialNumberHex).toBe(parseCertificate(der).serialNumberHex);
    expect(pemToDer(hierarchy.signing.certificate.pem + hierarchy.intermediate.certificate.pem)).toHaveLength(2);
    expect(meshError(() => parseCertificate(Uint8Array.of(0x30, 0x03, 0x02, 0x01))).code).toBe('invalid_argument');
    expect(meshError(() => parseCertificate('hello')).message).toMatch(/BEGIN CERTIFICATE/);
    expect(meshError(() => parseCertificate(der.subarray(0, der.length - 5))).code).toBe('invalid_argument');
    expect(meshError(() => pemToDer('-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----')).code).toBe('invalid_argument');
  });

  it('reads certificates openssl made', async () => {
    await scratch.openssl([
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', 'ossl-key.pem',
      '-out', 'ossl.pem', '-subj', '/C=US/O=Example/OU=Newsroom/CN=Example Signer', '-days', '30',
      '-addext', 'subjectAltName=DNS:example.com,URI:https://example.com/id,email:news@example.com,IP:10.0.0.1',
    ]);
    const { readFile } = await import('node:fs/promises');
    const info = parseCertificate(await readFile(scratch.file('ossl.pem'), 'utf8'));
    expect(info.subject).toMatchObject({ commonName: 'Example Signer', organization: 'Example', organizationalUnit: 'Newsroom', country: 'US' });
    expect(info.subject.text).toBe('CN=Example Signer,OU=Newsroom,O=Example,C=US');
    expect(info.keyAlgorithm).toBe('ES384');
    expect(info.sanDns).toEqual(['example.com']);
    expect(info.sanUris).toEqual(['https://example.com/id']);
    expect(info.sanEmails).toEqual(['news@example.com']);
    expect(info.sanIps).toEqual(['10.0.0.1']);
    const spki = createPublicKey(await readFile(scratch.file('ossl-key.pem'), 'utf8')).export({ type: 'spki', format: 'der' });
    expect(Buffer.from(info.subjectPublicKeySpki).equals(spki)).toBe(true);
    // Fingerprints match openssl's.
    const fingerprint = await scratch.openssl(['x509', '-in', 'ossl.pem', '-noout', '-fingerprint', '-sha256']);
    expect(fingerprint.stdout.trim().split('=')[1].replace(/:/g, '').toLowerCase()).toBe(info.fingerprintSha256Hex);
  });

  it('signs the TBSCertificate with the issuer key and nothing else', async () => {
    // Re-verify by hand: the signature covers exactly the TBS bytes.
    const cert = new X509Certificate(hierarchy.signing.certificate.der);
    expect(cert.verify(new X509Certificate(hierarchy.root.certificate.der).publicKey)).toBe(false);
    const tampered = Uint8Array.from(hierarchy.signing.certificate.der);
    tampered[40] ^= 0x01;
    let verified = false;
    try {
      verified = new X509Certificate(tampered).verify(new X509Certificate(hierarchy.intermediate.certificate.der).publicKey);
    } catch {
      verified = false;
    }
    expect(verified).toBe(false);
  });
});
