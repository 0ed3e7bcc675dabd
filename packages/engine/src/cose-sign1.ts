import { Decoder, Encoder, Tag, type Options as CborOptions } from 'cbor-x';
import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';
import type { ClaimSigner } from './types.js';

/**
 * COSE_Sign1 (RFC 9052) as C2PA wants it in its claim signature box, written by hand: it is a
 * fixed four-element structure, and the C2PA specifics (x5chain per RFC 9360, the sigTst2
 * time-stamp header, rVals OCSP staples, padding to an exact size) are not in any COSE library.
 * The layout follows c2pa-rs's own `crypto/cose/sign.rs` so that both produce the same bytes.
 */

// Plain RFC 8949 CBOR: cbor-x's record and typed-array extensions are not understood by c2pa-rs.
// (useTag259ForMaps is a cbor-x option its type declarations lack.)
const cbor = new Encoder({
  useRecords: false,
  tagUint8Array: false,
  useTag259ForMaps: false,
  variableMapSize: true,
  mapsAsObjects: false,
} as CborOptions);
const encode = (value: unknown): Uint8Array => new Uint8Array(cbor.encode(value));
const decoder = new Decoder({ mapsAsObjects: false, useRecords: false } as CborOptions);

/** COSE algorithm identifiers (IANA "COSE Algorithms"). */
export const COSE_ALGORITHMS: Readonly<Record<ClaimSigner['alg'], number>> = {
  es256: -7,
  es384: -35,
  ps256: -37,
  ed25519: -8, // EdDSA
};

const COSE_SIGN1_TAG = 18;
const HEADER_ALG = 1;
const HEADER_X5CHAIN = 33;

export interface BuildCoseSign1Options {
  alg: ClaimSigner['alg'];
  /** DER certificates, signing certificate first; the trust anchor may be left out. */
  certificateChainDer: Uint8Array[];
  /** The claim bytes the engine hands to the signer: the detached payload. */
  claim: Uint8Array;
  /** Signs Sig_structure; returns the raw signature (IEEE P1363 r‖s for ECDSA). */
  signSigStructure: (toBeSigned: Uint8Array) => Promise<Uint8Array>;
  /**
   * Gets an RFC 3161 time-stamp over the signature: receives the CBOR bytes whose SHA-256 is the
   * message imprint (see countersignatureData) and returns the DER TimeStampResp (status granted,
   * then the token), which goes into `sigTst2.tstTokens[0].val` as it is. c2pa-rs writes the whole
   * response there; c2pa-rs also reads a bare TimeStampToken, but c2pa-ts refuses one.
   */
  timeStamp?: (countersignatureData: Uint8Array) => Promise<Uint8Array>;
  /** DER OCSPResponse(s) for the signing certificate, stapled in rVals.ocspVals. */
  ocspResponses?: Uint8Array[];
  /**
   * Exact size of the result; c2pa-rs reserved this much room in the asset. Unset: no padding (a
   * COSE_Sign1 that is not placed in a reserved box, e.g. a SignHash record).
   */
  reserveSize?: number;
}

/** The protected header bucket, serialised: `{1: alg, 33: x5chain}`. */
export function protectedHeader(alg: ClaimSigner['alg'], certificateChainDer: Uint8Array[]): Uint8Array {
  const algorithm = COSE_ALGORITHMS[alg];
  if (algorithm === undefined) throw invalidArgument(`unsupported signing algorithm "${alg}"`);
  if (certificateChainDer.length === 0) {
    throw invalidArgument('the certificate chain is empty; the signing certificate must come first');
  }
  // RFC 9360: one certificate is a byte string, several are an array of byte strings.
  const x5chain = certificateChainDer.length === 1 ? certificateChainDer[0] : certificateChainDer;
  return encode(new Map<number, unknown>([[HEADER_ALG, algorithm], [HEADER_X5CHAIN, x5chain]]));
}

/** `Sig_structure = ["Signature1", protected, external_aad = h'', payload]` (RFC 9052 §4.4). */
export function sigStructure(protectedHeaderBytes: Uint8Array, claim: Uint8Array): Uint8Array {
  return encode(['Signature1', protectedHeaderBytes, new Uint8Array(0), claim]);
}

/**
 * The bytes a C2PA v2 time-stamp (sigTst2) covers: the RFC 9338 countersignature structure
 * `["CounterSignature", protected, external_aad = h'', payload]` whose payload is the signature
 * as a CBOR byte string, itself wrapped in a byte string. The token's message imprint is the
 * SHA-256 of these bytes.
 */
export function countersignatureData(protectedHeaderBytes: Uint8Array, signature: Uint8Array): Uint8Array {
  return encode(['CounterSignature', protectedHeaderBytes, new Uint8Array(0), encode(signature)]);
}

const bstrHeaderLength = (n: number) => (n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5);

/**
 * Assembles the complete COSE_Sign1 (tag 18) for a C2PA claim signature, exactly `reserveSize`
 * bytes long: protected `{alg, x5chain}`, unprotected `{sigTst2, rVals, pad}`, payload nil
 * (detached), signature over Sig_structure. The one COSE_Sign1 builder of the mesh: SignHash
 * records use it too, without `reserveSize` (no pad).
 */
export async function buildCoseSign1(options: BuildCoseSign1Options): Promise<Uint8Array> {
  const protectedBytes = protectedHeader(options.alg, options.certificateChainDer);
  const signature = await options.signSigStructure(sigStructure(protectedBytes, options.claim));

  const unprotected = new Map<string, unknown>();
  if (options.timeStamp !== undefined) {
    const token = await options.timeStamp(countersignatureData(protectedBytes, signature));
    unprotected.set('sigTst2', new Map([['tstTokens', [new Map([['val', token]])]]]));
  }
  if (options.ocspResponses !== undefined && options.ocspResponses.length > 0) {
    unprotected.set('rVals', new Map([['ocspVals', options.ocspResponses]]));
  }

  const assemble = (pads: Array<[string, number]>) => {
    const header = new Map(unprotected);
    for (const [label, length] of pads) header.set(label, new Uint8Array(length));
    return encode(new Tag([protectedBytes, header, null, signature], COSE_SIGN1_TAG));
  };
  if (options.reserveSize === undefined) return assemble([]);

  // Zero padding fills the reserved room. A byte string's length prefix grows at 24, 256 and
  // 65536 bytes, so a few totals cannot be hit with one pad; c2pa-rs then adds "pad2" as well.
  const base = assemble([['pad', 0]]).length;
  const reserveSize = options.reserveSize;
  const missing = reserveSize - base;
  if (missing < 0) {
    throw failedPrecondition(
      `the claim signature needs ${base} bytes but only ${options.reserveSize} are reserved; raise the signer's reserveSize`,
      { details: { needed: base, reserveSize: options.reserveSize } },
    );
  }
  const padFor = (extra: number): number | undefined => {
    // A pad of n bytes adds (header(n) - 1) + n to the empty pad's size.
    for (const header of [1, 2, 3, 5]) {
      const n = extra - (header - 1);
      if (n >= 0 && bstrHeaderLength(n) === header) return n;
    }
    return undefined;
  };
  let pads: Array<[string, number]> | undefined;
  const single = padFor(missing);
  if (single !== undefined) {
    pads = [['pad', single]];
  } else {
    // "pad2" with an empty byte string costs 6 bytes (key and length); grow it until pad fits.
    for (let second = 0; pads === undefined && second < 64; second++) {
      const rest = missing - (6 + bstrHeaderLength(second) - 1 + second);
      const first = rest >= 0 ? padFor(rest) : undefined;
      if (first !== undefined) pads = [['pad', first], ['pad2', second]];
    }
  }
  const cose = pads === undefined ? undefined : assemble(pads);
  if (cose === undefined || cose.length !== options.reserveSize) {
    throw failedPrecondition(`cannot pad the claim signature to exactly ${options.reserveSize} bytes; choose another reserveSize`);
  }
  return cose;
}

/**
 * Room to reserve for the claim signature: the signature, the certificates, the time-stamp token
 * and the OCSP staple, plus framing. The same budget c2pa-rs uses (`cose_reserve_size`).
 */
export function claimSignatureReserveSize(options: {
  alg: ClaimSigner['alg'];
  certificateChainDer: Uint8Array[];
  timeStamp: boolean;
  ocspResponseLength?: number;
}): number {
  const rawSignature: Record<ClaimSigner['alg'], number> = { es256: 64, es384: 96, ps256: 512, ed25519: 64 };
  const certificates = options.certificateChainDer.reduce((sum, der) => sum + der.length, 0);
  return rawSignature[options.alg] + certificates + 1024 + (options.timeStamp ? 10_000 : 0) + (options.ocspResponseLength ?? 0);
}

/**
 * The signing certificate (DER) of a COSE_Sign1: the first x5chain entry, from the protected
 * header or, where a signer put it there, the unprotected one. Undefined when there is none.
 */
export function signingCertificateOf(cose: Uint8Array): Uint8Array | undefined {
  try {
    const decoded: unknown = decoder.decode(cose);
    const sign1 = decoded instanceof Tag ? decoded.value : decoded;
    if (!Array.isArray(sign1) || sign1.length !== 4 || !(sign1[0] instanceof Uint8Array)) return undefined;
    const headers = [sign1[0].length > 0 ? decoder.decode(sign1[0]) : new Map(), sign1[1]];
    for (const header of headers) {
      if (!(header instanceof Map)) continue;
      const x5chain: unknown = header.get(HEADER_X5CHAIN);
      const leaf = Array.isArray(x5chain) ? x5chain[0] : x5chain;
      if (leaf instanceof Uint8Array) return leaf;
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/** One ISO BMFF style box: 32-bit size (1 = 64-bit size follows, 0 = to the end), 4-char type. */
interface Box {
  type: string;
  /** Offset of the payload and its end, in the buffer searched. */
  start: number;
  end: number;
}

function childBoxes(bytes: Uint8Array, from: number, to: number): Box[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boxes: Box[] = [];
  for (let at = from; at + 8 <= to; ) {
    let size = view.getUint32(at);
    let headerLength = 8;
    if (size === 1) {
      if (at + 16 > to) break;
      size = Number(view.getBigUint64(at + 8));
      headerLength = 16;
    } else if (size === 0) {
      size = to - at;
    }
    if (size < headerLength || at + size > to) break;
    boxes.push({ type: String.fromCharCode(...bytes.subarray(at + 4, at + 8)), start: at + headerLength, end: at + size });
    at += size;
  }
  return boxes;
}

/** The label of a JUMBF superbox: in its description box, after the 16-byte type and toggles. */
function jumbfLabel(bytes: Uint8Array, superbox: Box): string | undefined {
  const description = childBoxes(bytes, superbox.start, superbox.end)[0];
  if (description === undefined || description.type !== 'jumd' || description.end - description.start < 17) return undefined;
  const toggles = bytes[description.start + 16];
  if ((toggles & 0x02) === 0) return undefined;
  const labelStart = description.start + 17;
  const nul = bytes.indexOf(0, labelStart);
  return new TextDecoder().decode(bytes.subarray(labelStart, nul < 0 || nul > description.end ? description.end : nul));
}

/**
 * The COSE_Sign1 of one manifest in a C2PA manifest store: JUMBF (ISO/IEC 19566-5) superboxes
 * store → manifest (by label) → "c2pa.signature", whose CBOR content box holds the COSE bytes.
 * Also accepts the signature superbox on its own. Undefined when the path is not there.
 */
export function coseInManifestStore(store: Uint8Array, manifestLabel: string): Uint8Array | undefined {
  const find = (box: Box, path: string[]): Uint8Array | undefined => {
    const label = jumbfLabel(store, box);
    const rest = path[0] === label ? path.slice(1) : path;
    const children = childBoxes(store, box.start, box.end);
    if (rest.length === 0) {
      const content = children.find((c) => c.type === 'cbor');
      return content === undefined ? undefined : store.subarray(content.start, content.end);
    }
    for (const child of children) {
      if (child.type !== 'jumb') continue;
      const found = find(child, rest);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  for (const top of childBoxes(store, 0, store.length)) {
    if (top.type !== 'jumb') continue;
    const found = find(top, [manifestLabel, 'c2pa.signature']);
    if (found !== undefined) return found;
  }
  return undefined;
}
