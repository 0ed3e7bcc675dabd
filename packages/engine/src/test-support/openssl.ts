import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestCredential, TestPki } from './test-pki.js';

/**
 * An RFC 3161 time-stamping authority and an RFC 6960 OCSP responder run by the openssl command
 * line: tokens and responses from a tool independent of this code base, to check that the engine
 * (c2pa-rs) accepts what a real TSA and responder produce, and that the COSE assembly feeds them
 * the right bytes. Everything lives in a temporary directory removed by `dispose`.
 */

const run = promisify(execFile);

export interface OpensslAuthorities {
  /** Time-stamps `data` (the countersignature bytes); returns the DER TimeStampResp, as a TSA answers. */
  timeStamp(data: Uint8Array): Promise<Uint8Array>;
  /** The same, but only the DER TimeStampToken inside: the form older signatures carry. */
  timeStampToken(data: Uint8Array): Promise<Uint8Array>;
  /** A DER OCSPResponse for the signing certificate, signed by the delegated responder. */
  ocspResponse(status: 'good' | { revokedAt: Date }): Promise<Uint8Array>;
  dispose(): Promise<void>;
}

/** openssl's CA database time format: YYMMDDHHMMSSZ. */
const indexTime = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';

/** The subject as openssl's index prints it: /CN=…/O=… */
const indexSubject = (credential: TestCredential) =>
  '/' + credential.certificate.subject.split(/,\s*/).join('/');

export async function opensslAuthorities(pki: TestPki): Promise<OpensslAuthorities> {
  const dir = await mkdtemp(path.join(tmpdir(), 'engine-openssl-'));
  const file = (name: string) => path.join(dir, name);
  const written = Promise.all([
    writeFile(file('tsa.pem'), pki.tsa.pem),
    writeFile(file('tsa-key.pem'), pki.tsa.privateKeyPem, { mode: 0o600 }),
    // Put in every token (certReq): the TSA certificate's issuer, so the token chains to the root.
    writeFile(file('tsa-chain.pem'), pki.intermediate.pem),
    writeFile(file('tsaserial'), '01\n'),
    writeFile(file('intermediate.pem'), pki.intermediate.pem),
    writeFile(file('signer.pem'), pki.signer.pem),
    writeFile(file('ocsp.pem'), pki.ocspResponder.pem),
    writeFile(file('ocsp-key.pem'), pki.ocspResponder.privateKeyPem, { mode: 0o600 }),
    writeFile(
      file('tsa.cnf'),
      [
        '[ tsa ]',
        'default_tsa = engine_test_tsa',
        '[ engine_test_tsa ]',
        `dir = ${dir}`,
        'serial = $dir/tsaserial',
        'crypto_device = builtin',
        'signer_cert = $dir/tsa.pem',
        'certs = $dir/tsa-chain.pem',
        'signer_key = $dir/tsa-key.pem',
        'signer_digest = sha256',
        'default_policy = 1.3.6.1.4.1.4146.2.3',
        'digests = sha256, sha384, sha512',
        'accuracy = secs:1',
        'ordering = yes',
        'tsa_name = yes',
        'ess_cert_id_chain = no',
        'ess_cert_id_alg = sha256',
        '',
      ].join('\n'),
    ),
  ]);
  // The caller has nothing to dispose of yet if writing fails: remove the directory here.
  await written.catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });

  let sequence = 0;
  async function timeStamp(data: Uint8Array, tokenOnly: boolean): Promise<Uint8Array> {
    const n = ++sequence;
    await writeFile(file(`data-${n}.bin`), data);
    // -cert asks for the TSA's certificates in the token; c2pa-rs needs them to check it.
    await run('openssl', ['ts', '-query', '-data', file(`data-${n}.bin`), '-sha256', '-cert', '-out', file(`query-${n}.tsq`)]);
    await run('openssl', ['ts', '-reply', '-config', file('tsa.cnf'), '-queryfile', file(`query-${n}.tsq`), ...(tokenOnly ? ['-token_out'] : []), '-out', file(`reply-${n}.der`)]);
    return new Uint8Array(await readFile(file(`reply-${n}.der`)));
  }
  return {
    timeStamp: (data) => timeStamp(data, false),
    timeStampToken: (data) => timeStamp(data, true),

    async ocspResponse(status) {
      const n = ++sequence;
      const serial = pki.signer.certificate.serialNumber.toUpperCase();
      const expiry = indexTime(pki.signer.certificate.notAfter);
      const line =
        status === 'good'
          ? ['V', expiry, '', serial, 'unknown', indexSubject(pki.signer)]
          : ['R', expiry, indexTime(status.revokedAt), serial, 'unknown', indexSubject(pki.signer)];
      await writeFile(file(`index-${n}.txt`), line.join('\t') + '\n');
      await run('openssl', ['ocsp', '-issuer', file('intermediate.pem'), '-cert', file('signer.pem'), '-no_nonce', '-reqout', file(`ocsp-${n}.req`)]);
      await run('openssl', [
        'ocsp',
        '-index', file(`index-${n}.txt`),
        '-CA', file('intermediate.pem'),
        '-rsigner', file('ocsp.pem'),
        '-rkey', file('ocsp-key.pem'),
        // The responder certificate goes in by default; its issuer too, to chain to the root.
        '-rother', file('intermediate.pem'),
        '-reqin', file(`ocsp-${n}.req`),
        '-respout', file(`ocsp-${n}.der`),
        '-ndays', '1',
      ]);
      return new Uint8Array(await readFile(file(`ocsp-${n}.der`)));
    },

    async dispose() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `openssl ts -verify`: does the time-stamp (a TimeStampResp, or a bare token with `tokenIn`)
 * cover `data` and chain to the root? Returns openssl's verdict.
 */
export async function verifyTimeStamp(timeStamp: Uint8Array, data: Uint8Array, pki: TestPki, options: { tokenIn?: boolean } = {}): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'engine-tst-'));
  const file = (name: string) => path.join(dir, name);
  try {
    await Promise.all([
      writeFile(file('reply.der'), timeStamp),
      writeFile(file('data.bin'), data),
      writeFile(file('root.pem'), pki.root.pem),
      writeFile(file('intermediate.pem'), pki.intermediate.pem),
    ]);
    const { stdout } = await run('openssl', [
      'ts', '-verify', '-in', file('reply.der'), ...(options.tokenIn ? ['-token_in'] : []), '-data', file('data.bin'),
      '-CAfile', file('root.pem'), '-untrusted', file('intermediate.pem'),
    ]);
    return stdout.trim();
  } catch (error) {
    return `openssl ts -verify failed: ${(error as { stdout?: string; stderr?: string }).stderr ?? String(error)}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
