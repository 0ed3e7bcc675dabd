import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '@c2pa-mesh/key-custody';
import { issueCertificate } from './certificate.js';
import { parseCertificate } from './certificate-info.js';
import { readCertificateSummary } from './certificate-summary.js';
import { createTestHierarchy } from './testing.js';

describe('readCertificateSummary', () => {
  it('reads what parseCertificate reads, for every SAN kind and key type', async () => {
    const hierarchy = await createTestHierarchy();
    for (const algorithm of ['ES256', 'ES384', 'PS256', 'ED25519'] as const) {
      const { signer } = await generateKeyPair(algorithm);
      const issued = await issueCertificate({
        profile: 'MESH_SERVER',
        subject: { commonName: 'edge, "quoted"', organization: 'Example+Co', country: 'DE' },
        subjectPublicKeySpki: signer.publicKeySpki,
        issuer: { certificateDer: hierarchy.intermediate.certificate.der, signer: hierarchy.intermediate.signer },
        san: { dns: ['edge.example', '*.edge.example'], ip: ['10.0.0.7', '2001:db8::1'], uri: ['spiffe://partner.example/edge'], email: ['ops@example.com'] },
      });
      const full = parseCertificate(issued.der);
      const summary = readCertificateSummary(issued.pem);
      for (const field of ['serialNumberHex', 'subject', 'issuer', 'notBefore', 'notAfter', 'spkiSha256Hex', 'subjectPublicKeySpki', 'keyAlgorithm', 'sanDns', 'sanIps', 'sanUris', 'sanEmails'] as const) {
        expect(summary[field], field).toEqual(full[field]);
      }
      expect(summary.keyAlgorithm).toBe(algorithm);
    }
  });

  it('reads certificates without SANs and refuses what is not a certificate', async () => {
    const hierarchy = await createTestHierarchy();
    const summary = readCertificateSummary(hierarchy.root.certificate.der);
    expect(summary.sanDns).toEqual([]);
    expect(summary.subject.commonName).toBe('Test C2PA Root');
    expect(() => readCertificateSummary(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))).toThrow(/not a DER X.509 certificate/);
  });
});
