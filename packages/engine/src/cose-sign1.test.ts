import { KeyObject, verify } from 'node:crypto';
import { Decoder } from 'cbor-x';
import { beforeAll, describe, expect, it } from 'vitest';
import { MeshError } from '@c2pa-mesh/errors';
import {
  buildCoseSign1,
  claimSignatureReserveSize,
  coseInManifestStore,
  countersignatureData,
  protectedHeader,
  signingCertificateOf,
} from './cose-sign1.js';
import { createTestPki, es256, type TestPki } from './test-support/test-pki.js';

// Decoding uses cbor-x's decoder with maps kept as Maps (integer keys); the expected encodings
// below are written out byte by byte from RFC 8949, independent of the encoder under test.
const decoder = new Decoder({ mapsAsObjects: false } as ConstructorParameters<typeof Decoder>[0]);
const decode = (bytes: Uint8Array) => decoder.decode(bytes);

const bstrHeader = (n: number): number[] =>
  n < 24 ? [0x40 + n] : n < 0x100 ? [0x58, n] : n < 0x10000 ? [0x59, n >> 8, n & 0xff] : [0x5a, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const bstr = (bytes: Uint8Array) => Buffer.concat([Buffer.from(bstrHeader(bytes.length)), bytes]);
const text = (s: string) => Buffer.concat([Buffer.from([0x60 + s.length]), Buffer.from(s, 'latin1')]);

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki('COSE Test');
});

const claim = new Uint8Array(Buffer.from('a claim, as c2pa-rs would pass it to the signer'));

describe('buildCoseSign1', () => {
  it('builds a tagged COSE_Sign1 with {alg, x5chain}, detached payload and a verifiable ES256 signature', async () => {
    const reserveSize = 2048;
    const cose = await buildCoseSign1({
      alg: 'es256',
      certificateChainDer: pki.signerChainDer,
      claim,
      signSigStructure: es256(pki.signer.privateKey),
      reserveSize,
    });
    expect(cose.length).toBe(reserveSize);
    expect(cose[0]).toBe(0xd2); // tag 18

    const sign1 = decode(cose);
    expect(sign1.tag).toBe(18);
    const [protectedBytes, unprotected, payload, signature] = sign1.value as [Uint8Array, Map<string, unknown>, null, Uint8Array];
    expect(payload).toBeNull();
    expect(signature.length).toBe(64); // P1363 r‖s, not DER

    const header = decode(protectedBytes) as Map<number, unknown>;
    expect([...header.keys()]).toEqual([1, 33]);
    expect(header.get(1)).toBe(-7);
    const chain = header.get(33) as Uint8Array[];
    expect(chain.map((c) => Buffer.from(c).equals(Buffer.from(pki.signer.der)) || Buffer.from(c).equals(Buffer.from(pki.intermediate.der)))).toEqual([true, true]);
    expect(Buffer.from(chain[0]).equals(Buffer.from(pki.signer.der))).toBe(true);

    expect([...unprotected.keys()]).toEqual(['pad']);
    expect((unprotected.get('pad') as Uint8Array).every((b) => b === 0)).toBe(true);

    // Sig_structure = ["Signature1", protected, h'', payload] (RFC 9052 §4.4).
    const toBeSigned = Buffer.concat([Buffer.from([0x84]), text('Signature1'), bstr(protectedBytes), Buffer.from([0x40]), bstr(claim)]);
    const publicKey = KeyObject.from(pki.signer.keys.publicKey);
    expect(verify('sha256', toBeSigned, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    expect(verify('sha256', Buffer.concat([toBeSigned, Buffer.from([0])]), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(false);
  });

  it('puts a single certificate in x5chain as a byte string (RFC 9360)', () => {
    const header = decode(protectedHeader('es384', [pki.signer.der])) as Map<number, unknown>;
    expect(header.get(1)).toBe(-35);
    expect(header.get(33)).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(header.get(33) as Uint8Array).equals(Buffer.from(pki.signer.der))).toBe(true);
  });

  it('uses the COSE algorithm identifiers for every supported algorithm', () => {
    const alg = (a: 'es256' | 'es384' | 'ps256' | 'ed25519') => (decode(protectedHeader(a, [pki.signer.der])) as Map<number, unknown>).get(1);
    expect([alg('es256'), alg('es384'), alg('ps256'), alg('ed25519')]).toEqual([-7, -35, -37, -8]);
  });

  it('time-stamps the countersignature data and staples OCSP, before the padding', async () => {
    const token = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x07]);
    const ocsp = new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x00]);
    let stamped: Uint8Array | undefined;
    const cose = await buildCoseSign1({
      alg: 'es256',
      certificateChainDer: pki.signerChainDer,
      claim,
      signSigStructure: es256(pki.signer.privateKey),
      timeStamp: async (data) => {
        stamped = data;
        return token;
      },
      ocspResponses: [ocsp],
      reserveSize: 4000,
    });
    const [protectedBytes, unprotected, , signature] = decode(cose).value as [Uint8Array, Map<string, unknown>, null, Uint8Array];
    expect([...unprotected.keys()]).toEqual(['sigTst2', 'rVals', 'pad']);
    const sigTst2 = unprotected.get('sigTst2') as Map<string, Array<Map<string, Uint8Array>>>;
    expect([...sigTst2.get('tstTokens')![0].get('val')!]).toEqual([...token]);
    const rVals = unprotected.get('rVals') as Map<string, Uint8Array[]>;
    expect([...rVals.get('ocspVals')![0]]).toEqual([...ocsp]);

    // ["CounterSignature", protected, h'', bstr(cbor(bstr(signature)))]: four elements, the
    // signature wrapped twice.
    const expected = Buffer.concat([
      Buffer.from([0x84]),
      text('CounterSignature'),
      bstr(protectedBytes),
      Buffer.from([0x40]),
      bstr(bstr(signature)),
    ]);
    expect(Buffer.from(stamped!).equals(expected)).toBe(true);
    expect(Buffer.from(countersignatureData(protectedBytes, signature)).equals(expected)).toBe(true);
  });

  it('hits every reserve size exactly, including those a single pad cannot reach', async () => {
    const fixedSignature = async () => new Uint8Array(64).fill(7);
    const build = (reserveSize: number) =>
      buildCoseSign1({ alg: 'es256', certificateChainDer: pki.signerChainDer, claim, signSigStructure: fixedSignature, reserveSize });
    // Every size from the smallest possible up past the 24- and 256-byte pad boundaries, and
    // around the 65536-byte one.
    const minimum = pki.signerChainDer.reduce((n, c) => n + c.length, 0);
    const sizes: number[] = [];
    for (let s = minimum + 100; s < minimum + 700; s++) sizes.push(s);
    for (let s = 65_500; s < 65_600; s++) sizes.push(minimum + s);
    sizes.push(1_000_000);
    const wrong: number[] = [];
    let secondPads = 0;
    for (const size of sizes) {
      const cose = await build(size).catch((e: MeshError) => e);
      if (cose instanceof MeshError || cose.length !== size) wrong.push(size);
      else if ((decode(cose).value[1] as Map<string, unknown>).has('pad2')) secondPads++;
    }
    expect(wrong).toEqual([]);
    expect(secondPads).toBeGreaterThan(0);
  });

  it('refuses a reserve that is too small, saying how much is needed', async () => {
    const error = await buildCoseSign1({
      alg: 'es256',
      certificateChainDer: pki.signerChainDer,
      claim,
      signSigStructure: es256(pki.signer.privateKey),
      reserveSize: 200,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).code).toBe('failed_precondition');
    expect((error as MeshError).message).toMatch(/needs \d+ bytes but only 200 are reserved/);
  });

  it('refuses an empty certificate chain', () => {
    expect(() => protectedHeader('es256', [])).toThrow(/certificate chain is empty/);
  });
});

describe('claimSignatureReserveSize', () => {
  it('leaves room for the chain, a time-stamp token and the OCSP staple', async () => {
    const chain = pki.signerChainDer;
    const plain = claimSignatureReserveSize({ alg: 'es256', certificateChainDer: chain, timeStamp: false });
    const full = claimSignatureReserveSize({ alg: 'es256', certificateChainDer: chain, timeStamp: true, ocspResponseLength: 1500 });
    expect(full - plain).toBe(11_500);
    const cose = await buildCoseSign1({
      alg: 'es256',
      certificateChainDer: chain,
      claim,
      signSigStructure: es256(pki.signer.privateKey),
      reserveSize: plain,
    });
    expect(cose.length).toBe(plain);
  });

  it('budgets for an RSA-4096 signature under PS256', () => {
    const es = claimSignatureReserveSize({ alg: 'es256', certificateChainDer: [], timeStamp: false });
    const ps = claimSignatureReserveSize({ alg: 'ps256', certificateChainDer: [], timeStamp: false });
    expect(ps - es).toBe(512 - 64);
  });
});

describe('reading a claim signature back', () => {
  // JUMBF boxes built by hand (ISO/IEC 19566-5): size, type, payload; a description box carries
  // a 16-byte type, toggles (0x03: requestable, labelled) and the NUL-terminated label.
  const box = (type: string, payload: Uint8Array) => {
    const header = Buffer.alloc(8);
    header.writeUInt32BE(8 + payload.length);
    header.write(type, 4, 'latin1');
    return new Uint8Array(Buffer.concat([header, payload]));
  };
  const superbox = (label: string, ...children: Uint8Array[]) =>
    box('jumb', Buffer.concat([box('jumd', Buffer.concat([Buffer.alloc(16, 0x11), Buffer.from([0x03]), Buffer.from(`${label}\0`)])), ...children]));

  it('finds the signing certificate of a COSE_Sign1', async () => {
    const cose = await buildCoseSign1({ alg: 'es256', certificateChainDer: pki.signerChainDer, claim, signSigStructure: es256(pki.signer.privateKey), reserveSize: 3000 });
    expect(Buffer.from(signingCertificateOf(cose)!).equals(Buffer.from(pki.signer.der))).toBe(true);
    expect(signingCertificateOf(new Uint8Array([0xd2, 0x84, 0x01]))).toBeUndefined();
    expect(signingCertificateOf(new Uint8Array(Buffer.from('not cbor at all')))).toBeUndefined();
  });

  it('finds the COSE_Sign1 of the named manifest in a manifest store', () => {
    const coseA = new Uint8Array([0xd2, 0xaa]);
    const coseB = new Uint8Array([0xd2, 0xbb]);
    const manifest = (label: string, cose: Uint8Array) =>
      superbox(label, superbox('c2pa.assertions'), superbox('c2pa.claim.v2', box('cbor', new Uint8Array([0xa0]))), superbox('c2pa.signature', box('cbor', cose)));
    const store = superbox('c2pa', manifest('urn:c2pa:first', coseA), manifest('urn:c2pa:second', coseB));
    expect([...coseInManifestStore(store, 'urn:c2pa:second')!]).toEqual([...coseB]);
    expect([...coseInManifestStore(store, 'urn:c2pa:first')!]).toEqual([...coseA]);
    expect(coseInManifestStore(store, 'urn:c2pa:third')).toBeUndefined();
    expect(coseInManifestStore(store.subarray(0, 40), 'urn:c2pa:first')).toBeUndefined();
  });
});
