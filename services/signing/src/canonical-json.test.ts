import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts members by UTF-16 code units, at every depth, with no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
    // RFC 8785 §3.2.3: by UTF-16 code units, so U+20AC (€) before the surrogate pair U+D83D U+DE00.
    expect(canonicalJson({ '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ud83d\ude00': 'Emoji', '1': 'One', '\u0080': 'Control' })).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji"}',
    );
  });

  it('writes numbers and strings as ECMAScript does (RFC 8785 §3.2.2)', () => {
    expect(canonicalJson([1e21, 1e-7, 0.1, -0, 333333333.3333333])).toBe('[1e+21,1e-7,0.1,0,333333333.3333333]');
    expect(canonicalJson('tab\there "quoted" \u0001')).toBe('"tab\\there \\"quoted\\" \\u0001"');
  });

  it('leaves out undefined members and refuses what JSON cannot hold', () => {
    expect(canonicalJson({ a: undefined, b: 'kept' })).toBe('{"b":"kept"}');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/NaN or Infinity/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
  });
});
