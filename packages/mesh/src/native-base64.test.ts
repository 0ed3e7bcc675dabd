import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { installNativeBase64 } from './native-base64.js';

// Installed before protobuf-es is loaded, as the mesh's entry point does, and counted, to show
// that protobuf-es then goes through these methods instead of its own loops.
const installedAtImport = !installNativeBase64().length;
const prototype = Uint8Array.prototype as unknown as Record<'toBase64' | 'setFromBase64', (...args: unknown[]) => unknown>;
const native = { toBase64: String(prototype.toBase64).includes('[native code]'), setFromBase64: String(prototype.setFromBase64).includes('[native code]') };
const calls = { toBase64: 0, setFromBase64: 0 };
for (const name of ['toBase64', 'setFromBase64'] as const) {
  const method = prototype[name];
  prototype[name] = function (this: Uint8Array, ...args: unknown[]) {
    calls[name]++;
    return method.apply(this, args);
  };
}
const { base64Decode, base64Encode } = await import('@bufbuild/protobuf/wire');

/** The RFC 4648 encodings, computed independently of the code under test. */
function reference(bytes: Uint8Array, encoding: 'std' | 'std_raw' | 'url'): string {
  const std = Buffer.from(bytes).toString('base64');
  if (encoding === 'std') return std;
  const raw = std.replace(/=+$/, '');
  return encoding === 'std_raw' ? raw : raw.replace(/\+/g, '-').replace(/\//g, '_');
}

describe('Buffer-backed Uint8Array base64 for protobuf-es', () => {
  it('installs toBase64 and setFromBase64 where the runtime has none, and protobuf-es uses them', () => {
    const runtimeHasThem = Number(process.versions.node.split('.')[0]) >= 25;
    expect(installedAtImport).toBe(true);
    expect(native).toEqual({ toBase64: runtimeHasThem, setFromBase64: runtimeHasThem });
    const bytes = new Uint8Array(randomBytes(33));
    expect(base64Decode(base64Encode(bytes))).toEqual(bytes);
    expect(calls.toBase64).toBeGreaterThan(0);
    expect(calls.setFromBase64).toBeGreaterThan(0);
  });

  it('encodes every length and alphabet as RFC 4648 does', () => {
    for (let length = 0; length < 70; length++) {
      const bytes = new Uint8Array(randomBytes(length));
      for (const encoding of ['std', 'std_raw', 'url'] as const) {
        expect(base64Encode(bytes, encoding)).toBe(reference(bytes, encoding));
      }
    }
  });

  it('encodes a view into a larger buffer without its neighbours', () => {
    const whole = new Uint8Array(randomBytes(100));
    const view = whole.subarray(10, 47);
    expect(base64Encode(view)).toBe(Buffer.from(view).toString('base64'));
  });

  it('decodes padded, unpadded, URL-alphabet and white-spaced input to the same bytes', () => {
    for (let length = 0; length < 70; length++) {
      const bytes = new Uint8Array(randomBytes(length));
      const std = reference(bytes, 'std');
      for (const text of [std, reference(bytes, 'std_raw'), reference(bytes, 'url'), std.replace(/(.{4})/g, '$1\n')]) {
        expect(Buffer.from(base64Decode(text)).equals(Buffer.from(bytes))).toBe(true);
      }
    }
  });

  it('decodes what Buffer would read differently as protobuf-es alone does', () => {
    // Inner padding (concatenated base64), characters Buffer skips, and padding without its group.
    expect(Buffer.from(base64Decode('QQ==QQ==')).toString()).toBe('AA');
    expect(Buffer.from(base64Decode('QUJD\tREVG')).toString()).toBe('ABCDEF');
    expect(Buffer.from(base64Decode('QU JDRA==')).toString()).toBe('ABCD');
    expect(Buffer.from(base64Decode('QUJDRA=')).toString()).toBe('ABCD');
    expect(() => base64Decode('QUJD$A==')).toThrow(/invalid base64/);
    expect(() => base64Decode('QUJ$')).toThrow(/invalid base64/);
  });

  it('refuses what is not base64, as protobuf-es alone does', () => {
    for (const bad of ['abc$', 'A', 'AAAAA', '@@@@']) {
      expect(() => base64Decode(bad)).toThrow(/invalid base64/);
    }
  });

  it('decodes a large payload in one native pass', () => {
    const bytes = new Uint8Array(randomBytes(3 * 1024 * 1024 + 1));
    const text = base64Encode(bytes);
    expect(text).toBe(Buffer.from(bytes).toString('base64'));
    expect(Buffer.from(base64Decode(text)).equals(Buffer.from(bytes))).toBe(true);
  });
});
