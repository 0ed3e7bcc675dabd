import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageSoftHash, isccBytes, isccText } from './iscc-image.js';
import { bandProbes, fingerprintBands, hammingDistance, parseBindingValue, withSoftBindingAssertion } from './soft-binding.js';

/**
 * The Image-Code against the ISCC conformance vectors published with iscc-core (the reference
 * implementation of ISO 24138): 32×32 gray pixels in, the ISCC text out, for 64, 128 and 256 bits.
 */
const VECTORS = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../../test/fixtures/iscc/gen_image_code_v0.json'), 'utf8')) as {
  vectors: Record<string, { inputs: [number[], number]; outputs: { iscc: string } }>;
};

/** The ISCC header for a Content-Code Image of `bits` bits (length nibble: bits / 32 - 1). */
const header = (bits: number) => [0x21, bits / 32 - 1];

describe('ISCC Image-Code v0', () => {
  it.each(Object.entries(VECTORS.vectors))('%s matches the reference', (_name, vector) => {
    const [pixels, bits] = vector.inputs;
    const body = imageSoftHash(pixels, bits);
    expect(isccText(Uint8Array.from([...header(bits), ...body]))).toBe(vector.outputs.iscc);
  });

  it('reads its own text form back', () => {
    const code = Uint8Array.from([0x21, 0x01, 1, 2, 3, 4, 5, 6, 7, 255]);
    expect(isccBytes(isccText(code))).toEqual(code);
    expect(isccBytes('ISCC:not base32!')).toBeUndefined();
  });
});

describe('binding values', () => {
  const code = Uint8Array.from([0x21, 0x01, 0xf0, 0, 0, 0, 0, 0, 0, 1]);
  it('accepts the text, base64 of the code and base64 of the body, and nothing else', () => {
    expect(parseBindingValue('io.iscc.v0', isccText(code)).value).toEqual(code);
    expect(parseBindingValue('io.iscc.v0', Buffer.from(code).toString('base64')).value).toEqual(code);
    expect(parseBindingValue('io.iscc.v0', Buffer.from(code.subarray(2)).toString('base64')).value).toEqual(code);
    expect(() => parseBindingValue('io.iscc.v0', 'AAAA')).toThrow(/ISCC Image-Code/);
    expect(() => parseBindingValue('io.iscc.v0', Buffer.from([0x20, 0x01, 1, 2, 3, 4, 5, 6, 7, 8]).toString('base64'))).toThrow(/ISCC Image-Code/);
    expect(() => parseBindingValue('com.example.wm', 'AAAA')).toThrow(/not supported/);
  });

  it('probes each 16-bit quarter and every value within 2 bits of it', () => {
    const fingerprint = { alg: 'io.iscc.v0' as const, value: code };
    expect(fingerprintBands(fingerprint)).toEqual([0xf000, 0, 0, 1]);
    const probes = bandProbes(fingerprint);
    expect(probes.map((p) => new Set(p).size)).toEqual([137, 137, 137, 137]);
    const bitsApart = (a: number, b: number) => (a ^ b).toString(2).replace(/0/g, '').length;
    for (const [i, band] of fingerprintBands(fingerprint).entries()) {
      expect(probes[i][0]).toBe(band);
      expect(Math.max(...probes[i].map((v) => bitsApart(v, band)))).toBe(2);
    }
  });

  it('counts differing bits of the body only', () => {
    const other = Uint8Array.from([0x21, 0x01, 0x0f, 0, 0, 0, 0, 0, 0, 0]);
    expect(hammingDistance({ alg: 'io.iscc.v0', value: code }, { alg: 'io.iscc.v0', value: other })).toBe(9);
  });

  it("adds the assertion to the caller's definition, keeping its own", () => {
    const json = withSoftBindingAssertion(JSON.stringify({ title: 't', assertions: [{ label: 'c2pa.actions', data: {} }] }), { alg: 'io.iscc.v0', value: code });
    const parsed = JSON.parse(json);
    expect(parsed.title).toBe('t');
    expect(parsed.assertions.map((a: { label: string }) => a.label)).toEqual(['c2pa.actions', 'c2pa.soft-binding']);
    expect(parsed.assertions[1].data).toEqual({ alg: 'io.iscc.v0', blocks: [{ scope: {}, value: Buffer.from(code).toString('base64') }], pad: [] });
  });
});
