/**
 * A small DER writer and reader for the hot paths (OCSP requests and responses, time-stamp
 * requests and tokens). Written by hand on purpose: schema-driven parsing with asn1js/pkijs costs
 * more than the signature itself (~600 responses/s), while these structures are fixed and shallow.
 * Certificates, CSRs and PKCS#12 go through pkijs.
 */

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

export const EMPTY = new Uint8Array(0);
export const NULL = Uint8Array.of(TAG.NULL, 0);

function headerLength(length: number): number {
  if (length < 0x80) return 2;
  if (length < 0x100) return 3;
  if (length < 0x10000) return 4;
  if (length < 0x1000000) return 5;
  return 6;
}

function writeHeader(out: Uint8Array, tag: number, length: number): number {
  out[0] = tag;
  if (length < 0x80) {
    out[1] = length;
    return 2;
  }
  const size = headerLength(length) - 2;
  out[1] = 0x80 | size;
  for (let i = size; i >= 1; i--) {
    out[1 + i] = length & 0xff;
    length = Math.floor(length / 256);
  }
  return 2 + size;
}

/** One element: tag, length, and the concatenated contents. */
export function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of contents) length += part.length;
  const out = new Uint8Array(headerLength(length) + length);
  let offset = writeHeader(out, tag, length);
  for (const part of contents) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export const sequence = (...contents: Uint8Array[]): Uint8Array => tlv(TAG.SEQUENCE, ...contents);
export const set = (...contents: Uint8Array[]): Uint8Array => tlv(TAG.SET, ...contents);
export const octetString = (bytes: Uint8Array): Uint8Array => tlv(TAG.OCTET_STRING, bytes);
/** [n] EXPLICIT: a constructed context-specific wrapper. */
export const explicit = (n: number, ...contents: Uint8Array[]): Uint8Array => tlv(0xa0 | n, ...contents);
/** [n] IMPLICIT over a primitive type: the contents with a context-specific primitive tag. */
export const implicitPrimitive = (n: number, content: Uint8Array): Uint8Array => tlv(0x80 | n, content);
/** [n] IMPLICIT over a constructed type (SEQUENCE/SET): the contents with a context-specific constructed tag. */
export const implicitConstructed = (n: number, ...contents: Uint8Array[]): Uint8Array => tlv(0xa0 | n, ...contents);

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/** SET OF in DER: the encoded elements in ascending byte order (X.690 §11.6). */
export function setOf(elements: readonly Uint8Array[], tag: number = TAG.SET): Uint8Array {
  return tlv(tag, ...[...elements].sort(compareBytes));
}

export function boolean(value: boolean): Uint8Array {
  return Uint8Array.of(TAG.BOOLEAN, 1, value ? 0xff : 0x00);
}

/** INTEGER contents for a non-negative magnitude: leading zeros stripped, a sign byte added when needed. */
export function unsignedIntegerContent(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  if (trimmed.length === 0) return Uint8Array.of(0);
  if (trimmed[0] & 0x80) {
    const out = new Uint8Array(trimmed.length + 1);
    out.set(trimmed, 1);
    return out;
  }
  return trimmed;
}

export function bigintMagnitude(value: bigint): Uint8Array {
  if (value < 0n) throw new DerError('negative values are not encoded here');
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** INTEGER from a non-negative number, bigint, or big-endian magnitude. */
export function integer(value: number | bigint | Uint8Array): Uint8Array {
  if (value instanceof Uint8Array) return tlv(TAG.INTEGER, unsignedIntegerContent(value));
  const big = typeof value === 'bigint' ? value : BigInt(value);
  return tlv(TAG.INTEGER, unsignedIntegerContent(bigintMagnitude(big)));
}

export function enumerated(value: number): Uint8Array {
  return tlv(TAG.ENUMERATED, unsignedIntegerContent(bigintMagnitude(BigInt(value))));
}

const oidCache = new Map<string, Uint8Array>();

/** OBJECT IDENTIFIER from dotted form; encodings are cached (the set of OIDs used is small). */
export function oid(dotted: string): Uint8Array {
  const cached = oidCache.get(dotted);
  if (cached) return cached;
  const arcs = dotted.split('.').map((arc) => {
    if (!/^\d+$/.test(arc)) throw new DerError(`"${dotted}" is not a dotted object identifier`);
    return BigInt(arc);
  });
  if (arcs.length < 2 || arcs[0] > 2n || (arcs[0] < 2n && arcs[1] > 39n)) {
    throw new DerError(`"${dotted}" is not a valid object identifier`);
  }
  const values = [arcs[0] * 40n + arcs[1], ...arcs.slice(2)];
  const bytes: number[] = [];
  for (const value of values) {
    const chunk: number[] = [Number(value & 0x7fn)];
    let rest = value >> 7n;
    while (rest > 0n) {
      chunk.unshift(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    bytes.push(...chunk);
  }
  const encoded = tlv(TAG.OID, Uint8Array.from(bytes));
  oidCache.set(dotted, encoded);
  return encoded;
}

export function bitString(bytes: Uint8Array, unusedBits = 0): Uint8Array {
  return tlv(TAG.BIT_STRING, Uint8Array.of(unusedBits), bytes);
}

/**
 * The contents of a named-bit BIT STRING (KeyUsage, PKIFailureInfo) with DER's rule applied:
 * trailing zero bits are removed (X.690 §11.2.2).
 */
export function namedBits(bits: readonly number[]): { bytes: Uint8Array; unusedBits: number } {
  if (bits.length === 0) return { bytes: EMPTY, unusedBits: 0 };
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3] |= 0x80 >> (bit & 7);
  return { bytes, unusedBits: 7 - (highest & 7) };
}

export function namedBitString(bits: readonly number[]): Uint8Array {
  const { bytes, unusedBits } = namedBits(bits);
  return bitString(bytes, unusedBits);
}

export function utf8String(text: string): Uint8Array {
  return tlv(TAG.UTF8_STRING, new TextEncoder().encode(text));
}

export function ia5String(text: string): Uint8Array {
  if (!/^[\x00-\x7f]*$/.test(text)) throw new DerError(`"${text}" is not an IA5String (ASCII only)`);
  return tlv(TAG.IA5_STRING, new TextEncoder().encode(text));
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * GeneralizedTime in UTC. With `millis`, the fraction DER allows: no trailing zeros, and no
 * fraction at all when the milliseconds are zero (X.690 §11.7).
 */
export function generalizedTime(date: Date, options: { millis?: boolean } = {}): Uint8Array {
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new DerError(`year ${year} cannot be written as GeneralizedTime`);
  let text =
    String(year).padStart(4, '0') +
    pad2(date.getUTCMonth() + 1) +
    pad2(date.getUTCDate()) +
    pad2(date.getUTCHours()) +
    pad2(date.getUTCMinutes()) +
    pad2(date.getUTCSeconds());
  const ms = date.getUTCMilliseconds();
  if (options.millis && ms !== 0) text += `.${String(ms).padStart(3, '0').replace(/0+$/, '')}`;
  return tlv(TAG.GENERALIZED_TIME, ascii(`${text}Z`));
}

export function utcTime(date: Date): Uint8Array {
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 2049) throw new DerError(`year ${year} cannot be written as UTCTime`);
  const text =
    pad2(year % 100) +
    pad2(date.getUTCMonth() + 1) +
    pad2(date.getUTCDate()) +
    pad2(date.getUTCHours()) +
    pad2(date.getUTCMinutes()) +
    pad2(date.getUTCSeconds());
  return tlv(TAG.UTC_TIME, ascii(`${text}Z`));
}

/** RFC 5280 Time: UTCTime through 2049, GeneralizedTime from 2050 (§4.1.2.5). */
export function x509Time(date: Date): Uint8Array {
  const year = date.getUTCFullYear();
  return year >= 1950 && year <= 2049 ? utcTime(date) : generalizedTime(date);
}

// ---------------------------------------------------------------------------------------------
// Reading

/** One element located in a buffer; `bytes` is the whole buffer it was read from. */
export interface DerElement {
  readonly bytes: Uint8Array;
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  readonly contentStart: number;
  /** Offset just past the element. */
  readonly end: number;
}

/** Reads the element at `offset`, which must end at or before `limit`. */
export function readElement(bytes: Uint8Array, offset = 0, limit = bytes.length): DerElement {
  if (offset + 2 > limit) throw new DerError('truncated: an element header runs past the end');
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used in these structures');
  let length = bytes[offset + 1];
  let contentStart = offset + 2;
  if (length & 0x80) {
    const size = length & 0x7f;
    if (size === 0) throw new DerError('indefinite lengths are not DER');
    if (size > 4) throw new DerError('element length too large');
    if (contentStart + size > limit) throw new DerError('truncated: a length runs past the end');
    length = 0;
    for (let i = 0; i < size; i++) length = length * 256 + bytes[contentStart + i];
    contentStart += size;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError('truncated: an element runs past the end of its container');
  return { bytes, tag, start: offset, contentStart, end };
}

/** Reads a whole buffer that must hold exactly one element. */
export function readSingle(bytes: Uint8Array, expectedTag?: number): DerElement {
  const element = readElement(bytes, 0, bytes.length);
  if (element.end !== bytes.length) throw new DerError('trailing bytes after the top-level element');
  if (expectedTag !== undefined) expectTag(element, expectedTag, 'top-level element');
  return element;
}

export function children(element: DerElement): DerElement[] {
  if (!(element.tag & 0x20)) throw new DerError(`element with tag 0x${element.tag.toString(16)} is not constructed`);
  const out: DerElement[] = [];
  let offset = element.contentStart;
  while (offset < element.end) {
    const child = readElement(element.bytes, offset, element.end);
    out.push(child);
    offset = child.end;
  }
  return out;
}

export function expectTag(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (!element) throw new DerError(`${what} is missing`);
  if (element.tag !== tag) {
    throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${element.tag.toString(16)}`);
  }
  return element;
}

export function contentOf(element: DerElement): Uint8Array {
  return element.bytes.subarray(element.contentStart, element.end);
}

export function encodingOf(element: DerElement): Uint8Array {
  return element.bytes.subarray(element.start, element.end);
}

export function readOid(element: DerElement): string {
  const content = contentOf(expectTag(element, TAG.OID, 'object identifier'));
  if (content.length === 0) throw new DerError('empty object identifier');
  const arcs: bigint[] = [];
  let value = 0n;
  for (let i = 0; i < content.length; i++) {
    value = (value << 7n) | BigInt(content[i] & 0x7f);
    if (!(content[i] & 0x80)) {
      arcs.push(value);
      value = 0n;
    } else if (i === content.length - 1) {
      throw new DerError('object identifier ends inside an arc');
    }
  }
  const first = arcs[0];
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** INTEGER contents, checked to be a non-empty, non-negative value. */
export function readUnsignedIntegerContent(element: DerElement, what: string): Uint8Array {
  const content = contentOf(expectTag(element, TAG.INTEGER, what));
  if (content.length === 0) throw new DerError(`${what}: empty INTEGER`);
  if (content[0] & 0x80) throw new DerError(`${what}: negative INTEGER`);
  return content;
}

export function readSmallInteger(element: DerElement, what: string): number {
  const content = readUnsignedIntegerContent(element, what);
  if (content.length > 4) throw new DerError(`${what}: INTEGER too large`);
  let value = 0;
  for (const byte of content) value = value * 256 + byte;
  return value;
}

export function readBoolean(element: DerElement, what: string): boolean {
  const content = contentOf(expectTag(element, TAG.BOOLEAN, what));
  if (content.length !== 1) throw new DerError(`${what}: BOOLEAN must be one byte`);
  return content[0] !== 0;
}

/** Reads a UTCTime or GeneralizedTime in the Z (UTC) forms RFC 5280 allows, fractions included. */
export function readTime(element: DerElement): Date {
  const text = new TextDecoder().decode(contentOf(element));
  let match: RegExpMatchArray | null;
  let year: number;
  if (element.tag === TAG.UTC_TIME) {
    match = text.match(/^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/);
    if (!match) throw new DerError(`"${text}" is not a UTCTime in UTC`);
    year = Number(match[1]) + (Number(match[1]) < 50 ? 2000 : 1900); // RFC 5280 §4.1.2.5.1
  } else if (element.tag === TAG.GENERALIZED_TIME) {
    match = text.match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?Z$/);
    if (!match) throw new DerError(`"${text}" is not a GeneralizedTime in UTC`);
    year = Number(match[1]);
  } else {
    throw new DerError(`expected a time, found tag 0x${element.tag.toString(16)}`);
  }
  const millis = match[7] ? Math.floor(Number(`0.${match[7]}`) * 1000) : 0;
  const date = new Date(Date.UTC(year, Number(match[2]) - 1, Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6]), millis));
  if (Number.isNaN(date.getTime())) throw new DerError(`"${text}" is not a valid date`);
  return date;
}

// ---------------------------------------------------------------------------------------------
// Serial numbers

/** Canonical serial-number text across the mesh: lowercase hex of the magnitude, no sign byte. */
export function serialHexFromIntegerContent(content: Uint8Array): string {
  let start = 0;
  while (start < content.length - 1 && content[start] === 0) start++;
  return Buffer.from(content.subarray(start)).toString('hex');
}

/** Parses a serial in hex (any case, optional `0x`, `:` separators) into its magnitude bytes. */
export function serialMagnitudeFromHex(serialHex: string): Uint8Array {
  let hex = serialHex.trim().toLowerCase().replace(/^0x/, '').replace(/:/g, '');
  if (!/^[0-9a-f]+$/.test(hex)) throw new DerError(`"${serialHex}" is not a hexadecimal serial number`);
  if (hex.length % 2) hex = `0${hex}`;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
