import * as asn1js from 'asn1js';
import { describe, expect, it } from 'vitest';
import {
  DerError,
  children,
  generalizedTime,
  integer,
  namedBitString,
  oid,
  readElement,
  readOid,
  readSingle,
  readTime,
  sequence,
  serialHexFromIntegerContent,
  serialMagnitudeFromHex,
  setOf,
  tlv,
  utcTime,
  x509Time,
} from './der.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes.subarray(2));

describe('DER writer', () => {
  it('encodes lengths in short and long form', () => {
    expect(hex(tlv(0x04, new Uint8Array(3)))).toBe('0403000000');
    expect(hex(tlv(0x04, new Uint8Array(200)).subarray(0, 3))).toBe('0481c8');
    expect(hex(tlv(0x04, new Uint8Array(300)).subarray(0, 4))).toBe('0482012c');
    expect(tlv(0x04, new Uint8Array(70_000)).subarray(0, 5)).toEqual(Uint8Array.of(0x04, 0x83, 0x01, 0x11, 0x70));
  });

  it('encodes non-negative integers minimally, with a sign byte where needed', () => {
    expect(hex(integer(0))).toBe('020100');
    expect(hex(integer(127))).toBe('02017f');
    expect(hex(integer(128))).toBe('02020080');
    expect(hex(integer(256))).toBe('02020100');
    expect(hex(integer(2n ** 64n))).toBe('0209010000000000000000');
    expect(hex(integer(Uint8Array.of(0, 0, 0x90)))).toBe('02020090');
    // Agrees with asn1js for a spread of values.
    for (const value of [1, 255, 65535, 65536, 2 ** 31, 2 ** 40 + 7]) {
      expect(hex(integer(value))).toBe(Buffer.from(new asn1js.Integer({ value }).toBER()).toString('hex'));
    }
  });

  it('encodes and reads object identifiers', () => {
    for (const dotted of ['1.2.840.113549.1.9.16.2.47', '2.999.3', '1.3.6.1.4.1.62558.2.1', '0.9.2342.19200300.100.1.25']) {
      const encoded = oid(dotted);
      expect(hex(encoded)).toBe(Buffer.from(new asn1js.ObjectIdentifier({ value: dotted }).toBER()).toString('hex'));
      expect(readOid(readSingle(encoded))).toBe(dotted);
    }
    expect(() => oid('1.2.x')).toThrow(DerError);
    expect(() => oid('3.1')).toThrow(DerError);
  });

  it('writes named bit strings the DER way (trailing zero bits removed)', () => {
    expect(hex(namedBitString([0]))).toBe('03020780'); // digitalSignature / badAlg
    expect(hex(namedBitString([5, 6]))).toBe('03020106'); // keyCertSign + cRLSign
    expect(hex(namedBitString([5]))).toBe('03020204'); // badDataFormat
    expect(hex(namedBitString([15]))).toBe('0303000001'); // unacceptedPolicy
    expect(hex(namedBitString([16]))).toBe('030407000080'); // unacceptedExtension
  });

  it('writes times as RFC 5280 and RFC 3161 want them', () => {
    const date = new Date('2026-03-01T12:00:00.120Z');
    expect(text(generalizedTime(date))).toBe('20260301120000Z');
    expect(text(generalizedTime(date, { millis: true }))).toBe('20260301120000.12Z');
    expect(text(generalizedTime(new Date('2026-03-01T12:00:00.005Z'), { millis: true }))).toBe('20260301120000.005Z');
    expect(text(generalizedTime(new Date('2026-03-01T12:00:00.000Z'), { millis: true }))).toBe('20260301120000Z');
    expect(text(utcTime(date))).toBe('260301120000Z');
    expect(x509Time(new Date('2049-12-31T23:59:59Z'))[0]).toBe(0x17);
    expect(x509Time(new Date('2050-01-01T00:00:00Z'))[0]).toBe(0x18);
    expect(() => utcTime(new Date('2050-01-01T00:00:00Z'))).toThrow(DerError);
  });

  it('sorts SET OF members by their encoding', () => {
    const a = sequence(integer(2));
    const b = sequence(integer(1), integer(1));
    const c = sequence(integer(1));
    const encoded = setOf([a, b, c]);
    expect(children(readSingle(encoded)).map((e) => hex(encoded.subarray(e.start, e.end)))).toEqual([hex(c), hex(a), hex(b)]);
  });
});

describe('DER reader', () => {
  it('refuses what is not DER or runs past its container', () => {
    expect(() => readSingle(Uint8Array.of(0x30, 0x80, 0x00, 0x00))).toThrow(/indefinite/);
    expect(() => readSingle(Uint8Array.of(0x30, 0x05, 0x02, 0x01))).toThrow(/truncated/);
    expect(() => readSingle(Uint8Array.of(0x30, 0x00, 0x00))).toThrow(/trailing/);
    expect(() => readSingle(Uint8Array.of(0x1f, 0x01, 0x00))).toThrow(/multi-byte/);
    expect(() => readElement(Uint8Array.of(0x30))).toThrow(/truncated/);
    expect(() => children(readSingle(Uint8Array.of(0x30, 0x03, 0x02, 0x05, 0x00)))).toThrow(/truncated/);
  });

  it('reads the times it writes, and the ones others write', () => {
    for (const iso of ['2026-03-01T12:00:00.120Z', '1999-12-31T23:59:59.000Z', '2049-01-01T00:00:00.000Z']) {
      const date = new Date(iso);
      expect(readTime(readSingle(generalizedTime(date, { millis: true }))).toISOString()).toBe(iso);
    }
    expect(readTime(readSingle(utcTime(new Date('1999-12-31T23:59:59Z')))).toISOString()).toBe('1999-12-31T23:59:59.000Z');
    expect(readTime(readSingle(x509Time(new Date('2060-05-01T00:00:00Z')))).toISOString()).toBe('2060-05-01T00:00:00.000Z');
    expect(() => readTime(readSingle(Uint8Array.of(0x17, 0x03, 0x31, 0x32, 0x33)))).toThrow(DerError);
    expect(() => readTime(readSingle(integer(5)))).toThrow(DerError);
  });

  it('keeps serial numbers canonical', () => {
    expect(serialHexFromIntegerContent(Uint8Array.of(0x00, 0x80, 0x01))).toBe('8001');
    expect(serialHexFromIntegerContent(Uint8Array.of(0x00))).toBe('00');
    expect(hex(serialMagnitudeFromHex('0x0A:bC'))).toBe('0abc');
    expect(hex(serialMagnitudeFromHex('abc'))).toBe('0abc');
    expect(() => serialMagnitudeFromHex('zz')).toThrow(DerError);
  });
});
