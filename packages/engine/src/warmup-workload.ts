import 'reflect-metadata';
import { sign as nodeSign, webcrypto, KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { buildCoseSign1, claimSignatureReserveSize } from './cose-sign1.js';
import type { ClaimSigner } from './types.js';

/**
 * What the engine signs and reads at start so that no caller meets a cold engine.
 *
 * V8 first runs WebAssembly as baseline (Liftoff) code and optimises a function only once it has
 * run hot; a call that arrives first pays for that, and a single long call (hashing a 100 MB
 * asset) pays all of it: the first 100 MiB WAV signed took 4.4 s against 1.1–1.4 s once the
 * engine had run. Compiled code is shared by every worker thread of the process (V8 keeps one
 * native module per WebAssembly binary), so signing and reading a few MiB on each worker at start
 * leaves the hot paths (parsing, SHA-256, writing the output, verify-after-sign) optimised for
 * all workers, replacements after recycling included.
 *
 * The credentials are made up in memory for this and thrown away: a root and a signing
 * certificate (ES256) that nothing outside the warm-up trusts.
 */

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
const EKU_C2PA_SIGNING = '1.3.6.1.4.1.62558.2.1';

export interface WarmupCredentials {
  signer: ClaimSigner;
  trustAnchorPem: string;
}

type CryptoKeyPair = webcrypto.CryptoKeyPair;

let credentials: Promise<WarmupCredentials> | undefined;

/** The throw-away signer and its root, made once per process. */
export function warmupCredentials(): Promise<WarmupCredentials> {
  credentials ??= makeCredentials();
  return credentials;
}

async function makeCredentials(): Promise<WarmupCredentials> {
  const now = Date.now();
  const validity = { notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 86_400_000) };
  const generate = async () => (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const [rootKeys, signerKeys] = await Promise.all([generate(), generate()]);
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=c2pa-mesh engine warm-up root',
    ...validity,
    keys: rootKeys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=c2pa-mesh engine warm-up,O=c2pa-mesh',
    issuer: root.subject,
    ...validity,
    signingAlgorithm: ECDSA_SHA256,
    publicKey: signerKeys.publicKey,
    signingKey: rootKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([EKU_C2PA_SIGNING], false),
      await x509.SubjectKeyIdentifierExtension.create(signerKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const privateKey = KeyObject.from(signerKeys.privateKey as unknown as webcrypto.CryptoKey);
  const certificateChainDer = [new Uint8Array(leaf.rawData)];
  const reserveSize = claimSignatureReserveSize({ alg: 'es256', certificateChainDer, timeStamp: false });
  const signer: ClaimSigner = {
    alg: 'es256',
    reserveSize,
    sign: (claim) =>
      buildCoseSign1({
        alg: 'es256',
        certificateChainDer,
        claim,
        signSigStructure: async (toBeSigned) => new Uint8Array(nodeSign('sha256', toBeSigned, { key: privateKey, dsaEncoding: 'ieee-p1363' })),
        reserveSize,
      }),
  };
  return { signer, trustAnchorPem: root.toString('pem') };
}

/**
 * A PCM WAV of `bytes` (rounded down to whole samples): one second of a 440 Hz tone, repeated,
 * so that the bytes are not all alike. The warm-up signs one because the engine's work on a WAV
 * is almost all of the per-byte kind (copying, hashing) that large assets spend their time in;
 * the benchmarks generate their large assets with it too.
 */
export function toneWav(bytes: number): Uint8Array {
  const dataBytes = Math.max(4, Math.floor((bytes - 44) / 4) * 4);
  const wav = Buffer.alloc(44 + dataBytes);
  wav.write('RIFF', 0, 'latin1');
  wav.writeUInt32LE(36 + dataBytes, 4);
  wav.write('WAVEfmt ', 8, 'latin1');
  wav.writeUInt32LE(16, 16); // PCM fmt chunk
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(2, 22); // stereo
  wav.writeUInt32LE(48_000, 24);
  wav.writeUInt32LE(48_000 * 4, 28);
  wav.writeUInt16LE(4, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36, 'latin1');
  wav.writeUInt32LE(dataBytes, 40);
  const second = Buffer.alloc(48_000 * 4);
  for (let i = 0; i < 48_000; i++) {
    const sample = Math.round(Math.sin((2 * Math.PI * 440 * i) / 48_000) * 12_000);
    second.writeInt16LE(sample, i * 4);
    second.writeInt16LE(sample, i * 4 + 2);
  }
  for (let at = 44; at < wav.length; at += second.length) second.copy(wav, at, 0, Math.min(second.length, wav.length - at));
  return new Uint8Array(wav.buffer, wav.byteOffset, wav.length);
}

export const WARMUP_MANIFEST = JSON.stringify({
  title: 'engine warm-up',
  claim_generator_info: [{ name: 'c2pa-mesh engine warm-up', version: '1' }],
  assertions: [
    {
      label: 'c2pa.actions',
      data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture' }] },
    },
  ],
});
