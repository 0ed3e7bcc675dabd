import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_DIGITAL_SOURCE_TYPE, prepareManifestDefinition } from './manifest-definition.js';
import { MANIFEST_LIMITS } from './manifest-limits.js';

const created = { action: 'c2pa.created', digitalSourceType: DEFAULT_DIGITAL_SOURCE_TYPE };
const actions = (extra: unknown[] = []) => ({ label: 'c2pa.actions', data: { actions: [created, ...extra] } });

/** The MeshError prepareManifestDefinition throws, and whether it parsed the JSON first. */
function refusal(manifestJson: string): { code: string; message: string; limit: unknown; parsed: boolean } {
  const parse = vi.spyOn(JSON, 'parse');
  try {
    prepareManifestDefinition(manifestJson);
  } catch (error) {
    const e = error as { code: string; message: string; details: { limit?: unknown } };
    return { code: e.code, message: e.message, limit: e.details.limit, parsed: parse.mock.calls.length > 0 };
  } finally {
    parse.mockRestore();
  }
  throw new Error('the definition was accepted');
}

describe('manifest definition limits', () => {
  it('refuses a definition over 1 MiB before parsing it (50 MB)', () => {
    const huge = `{"assertions":[${JSON.stringify(actions())},{"label":"org.example.big","data":"${'y'.repeat(50 * 1024 * 1024)}"}]}`;
    const answer = refusal(huge);
    expect(answer).toMatchObject({ code: 'resource_exhausted', limit: 'maxJsonBytes', parsed: false });
    expect(answer.message).toContain('at most 1048576 bytes');
    // Multi-byte text counts in UTF-8 bytes, as it goes over the wire.
    const accents = JSON.stringify({ assertions: [actions(), { label: 'org.example.text', data: 'é'.repeat(600 * 1024) }] });
    expect(accents.length).toBeLessThan(MANIFEST_LIMITS.maxJsonBytes);
    expect(refusal(accents)).toMatchObject({ code: 'resource_exhausted', limit: 'maxJsonBytes' });
  });

  it('refuses nesting 10,000 deep without parsing it, and deeper than 32 levels; brackets inside strings do not count', () => {
    const deep = (levels: number) => JSON.stringify({ assertions: [actions(), { label: 'org.example.deep', data: 'X' }] }).replace('"X"', '['.repeat(levels) + ']'.repeat(levels));
    expect(refusal(deep(10_000))).toMatchObject({ code: 'invalid_argument', limit: 'maxDepth', parsed: false, message: 'manifest_json nests objects and arrays more than 32 levels deep' });
    // Depth 29 inside: definition, assertions array, assertion and data make 32.
    expect(() => prepareManifestDefinition(deep(28))).not.toThrow();
    expect(refusal(deep(30))).toMatchObject({ limit: 'maxDepth' });
    const brackets = JSON.stringify({ assertions: [actions(), { label: 'org.example.text', data: '[[[[{{{{\\"'.repeat(100) }] });
    expect(() => prepareManifestDefinition(brackets)).not.toThrow();
  });

  it('refuses more than 100 assertions, 1,000 actions or 100 ingredients, naming the limit', () => {
    const assertions = [actions(), ...Array.from({ length: 20_000 }, (_, i) => ({ label: `org.example.a${i}`, data: { i } }))];
    expect(refusal(JSON.stringify({ assertions }))).toMatchObject({ code: 'invalid_argument', limit: 'maxAssertions', message: 'manifest_json: assertions has 20001 entries; a manifest definition may have at most 100' });
    expect(() => prepareManifestDefinition(JSON.stringify({ assertions: assertions.slice(0, 100) }))).not.toThrow();

    const manyActions = JSON.stringify({ assertions: [actions(Array.from({ length: 100_000 }, () => ({ action: 'c2pa.edited' })))] });
    expect(manyActions.length).toBeGreaterThan(MANIFEST_LIMITS.maxJsonBytes);
    const fewerActions = JSON.stringify({ assertions: [actions(Array.from({ length: 1_000 }, () => ({ action: 'c2pa.edited' })))] });
    expect(refusal(fewerActions)).toMatchObject({ code: 'invalid_argument', limit: 'maxActions' });
    expect(() => prepareManifestDefinition(JSON.stringify({ assertions: [actions(Array.from({ length: 999 }, () => ({ action: 'c2pa.edited' })))] }))).not.toThrow();

    const ingredients = Array.from({ length: 101 }, (_, i) => ({ title: `i${i}`, format: 'image/jpeg' }));
    expect(refusal(JSON.stringify({ ingredients, assertions: [actions()] }))).toMatchObject({ code: 'invalid_argument', limit: 'maxIngredients' });
  });

  it('refuses a claim that would be too large to sign: a long claim_generator_info name', () => {
    const definition = { claim_generator_info: [{ name: 'x'.repeat(300 * 1024) }], assertions: [actions()] };
    expect(refusal(JSON.stringify(definition))).toMatchObject({ code: 'invalid_argument', limit: 'maxClaimBytes' });
    expect(() => prepareManifestDefinition(JSON.stringify({ ...definition, claim_generator_info: [{ name: 'x'.repeat(1000) }] }))).not.toThrow();
  });
});
