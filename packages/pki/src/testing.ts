/**
 * Test support: a complete C2PA hierarchy made in memory (root → intermediate → signing, OCSP
 * responder and TSA certificates), and openssl run in a scratch directory. Not part of the
 * package API; tests import it directly.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPair, type KeyAlgorithm, type KeySigner } from '@c2pa-mesh/key-custody';
import { issueCertificate, type CertificateProfile, type IssuedCertificate } from './certificate.js';

export interface TestIdentity {
  certificate: IssuedCertificate;
  signer: KeySigner;
  privateKeyPkcs8: Uint8Array;
}

export interface TestHierarchy {
  root: TestIdentity;
  intermediate: TestIdentity;
  signing: TestIdentity;
  ocspResponder: TestIdentity;
  tsa: TestIdentity;
}

export const TEST_URLS = {
  ocspUrl: 'http://127.0.0.1:8080/ocsp',
  caIssuersUrl: 'http://127.0.0.1:8080/ca/chain.pem',
  crlUrl: 'http://127.0.0.1:8080/ca/crl',
};

async function issued(
  profile: CertificateProfile,
  commonName: string,
  algorithm: KeyAlgorithm,
  issuer?: TestIdentity,
): Promise<TestIdentity> {
  const { signer, privateKeyPkcs8 } = await generateKeyPair(algorithm);
  const certificate = await issueCertificate({
    profile,
    subject: { commonName, organization: 'c2pa-mesh test', country: 'DE' },
    subjectPublicKeySpki: signer.publicKeySpki,
    issuer: issuer ? { certificateDer: issuer.certificate.der, signer: issuer.signer } : { selfSigned: signer },
    ...(profile === 'C2PA_SIGNING' ? TEST_URLS : profile === 'INTERMEDIATE_CA' ? { crlUrl: TEST_URLS.crlUrl } : {}),
  });
  return { certificate, signer, privateKeyPkcs8 };
}

/** Root, intermediate and end-entity certificates; `algorithm` for every key unless overridden. */
export async function createTestHierarchy(
  algorithm: KeyAlgorithm = 'ES256',
  leafAlgorithm: KeyAlgorithm = algorithm,
  tsaAlgorithm: KeyAlgorithm = leafAlgorithm,
): Promise<TestHierarchy> {
  const root = await issued('ROOT_CA', 'Test C2PA Root', algorithm);
  const intermediate = await issued('INTERMEDIATE_CA', 'Test C2PA Intermediate', algorithm, root);
  return {
    root,
    intermediate,
    signing: await issued('C2PA_SIGNING', 'Test Signer', leafAlgorithm, intermediate),
    ocspResponder: await issued('OCSP_RESPONDER', 'Test OCSP Responder', leafAlgorithm, intermediate),
    tsa: await issued('TSA', 'Test Time-Stamp Authority', tsaAlgorithm, intermediate),
  };
}

export interface OpensslResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A scratch directory for openssl runs; `dispose()` removes it. */
export async function createScratch() {
  const dir = await mkdtemp(path.join(tmpdir(), 'pki-test-'));
  return {
    dir,
    file: (name: string) => path.join(dir, name),
    async write(name: string, data: Uint8Array | string): Promise<string> {
      const file = path.join(dir, name);
      await writeFile(file, data);
      return file;
    },
    /** Runs openssl with `args` in the scratch directory; never rejects, the exit code tells. */
    openssl(args: string[], input?: string): Promise<OpensslResult> {
      return new Promise((resolve) => {
        const child = execFile('openssl', args, { cwd: dir, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        });
        if (input !== undefined) child.stdin?.end(input);
        else child.stdin?.end();
      });
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

export type Scratch = Awaited<ReturnType<typeof createScratch>>;
