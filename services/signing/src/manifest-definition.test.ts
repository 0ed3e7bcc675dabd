import { describe, expect, it } from 'vitest';
import { DEFAULT_DIGITAL_SOURCE_TYPE, MESH_CLAIM_GENERATOR, SCHEMA_ORG_CONTEXT, prepareManifestDefinition } from './manifest-definition.js';

const created = { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: DEFAULT_DIGITAL_SOURCE_TYPE }] } };
const prepared = (definition: unknown, title?: string) => JSON.parse(prepareManifestDefinition(JSON.stringify(definition), { title }).json);

describe('prepareManifestDefinition', () => {
  it('fills in the mesh as claim generator, and the request title only where the manifest has none', () => {
    expect(prepared({ assertions: [created] }, 'From the request')).toEqual({
      assertions: [created],
      claim_generator_info: [{ ...MESH_CLAIM_GENERATOR }],
      title: 'From the request',
    });
    expect(prepared({ title: 'Own title', assertions: [created] }, 'From the request').title).toBe('Own title');
    expect(prepared({ claim_generator_info: [{ name: 'Newsroom CMS', version: '4' }], assertions: [created] }).claim_generator_info).toEqual([{ name: 'Newsroom CMS', version: '4' }]);
  });

  it('leaves the actions of an empty manifest_json to the intent, naming digitalCapture for new content', () => {
    const result = prepareManifestDefinition('  ', { title: 'x' });
    expect(JSON.parse(result.json)).not.toHaveProperty('assertions');
    expect(result.defaultDigitalSourceType).toBe(DEFAULT_DIGITAL_SOURCE_TYPE);
    expect(result.title).toBe('x');
    expect(prepareManifestDefinition(JSON.stringify({ assertions: [created] }))).not.toHaveProperty('defaultDigitalSourceType');
  });

  it('turns the legacy claim_generator string into claim_generator_info', () => {
    expect(prepared({ claim_generator: 'Acme Camera App/2.1.0', assertions: [created] })).toMatchObject({ claim_generator_info: [{ name: 'Acme Camera App', version: '2.1.0' }] });
    expect(prepared({ claim_generator: 'acme', assertions: [created] }).claim_generator_info).toEqual([{ name: 'acme' }]);
    expect(prepared({ claim_generator: 'acme', assertions: [created] })).not.toHaveProperty('claim_generator');
  });

  it('accepts versioned actions labels, the v2 form and later actions of any kind', () => {
    const edited = { label: 'c2pa.actions.v2', data: { actions: [{ action: 'c2pa.created', digitalSourceType: DEFAULT_DIGITAL_SOURCE_TYPE }, { action: 'c2pa.edited' }] } };
    expect(() => prepareManifestDefinition(JSON.stringify({ assertions: [edited] }))).not.toThrow();
  });

  it('names the offending field and carries the c2pa-rs status code', () => {
    const attempt = () => prepareManifestDefinition(JSON.stringify({ assertions: [created, { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.placed' }] } }] }));
    expect(attempt).toThrow(expect.objectContaining({
      code: 'invalid_argument',
      details: expect.objectContaining({ field: 'manifest_json.assertions[1].data.actions[0].parameters.ingredientIds', statusCode: 'assertion.action.ingredientMismatch' }),
    }));
    expect(() => prepareManifestDefinition(JSON.stringify({ claim_version: 3, assertions: [created] }))).toThrow('manifest_json: claim_version must be 1 or 2, not 3');
    expect(() => prepareManifestDefinition(JSON.stringify({ ingredients: ['x'], assertions: [created] }))).toThrow('manifest_json: ingredients[0] must be an object, not a string');
  });

  it('adds the schema.org @context to stds.schema-org.* assertions that lack one, and says so', () => {
    const creativeWork = { label: 'stds.schema-org.CreativeWork', data: { '@type': 'CreativeWork', author: [{ '@type': 'Person', name: 'Jane Doe' }] } };
    const claimReview = { label: 'stds.schema-org.ClaimReview__1', data: { '@type': 'ClaimReview', reviewRating: { ratingValue: 1 } } };
    const result = prepareManifestDefinition(JSON.stringify({ assertions: [created, creativeWork, claimReview] }));
    const assertions = JSON.parse(result.json).assertions;
    expect(assertions[1]).toEqual({ label: creativeWork.label, data: { '@context': SCHEMA_ORG_CONTEXT, ...creativeWork.data } });
    expect(assertions[2].data).toEqual({ '@context': 'https://schema.org', ...claimReview.data });
    expect(assertions[0]).toEqual(created);
    expect(result.warnings).toEqual([
      { code: 'manifest.schemaOrgContextAdded', field: 'manifest_json.assertions[1].data', explanation: expect.stringContaining('"stds.schema-org.CreativeWork" assertion had no "@context"') },
      { code: 'manifest.schemaOrgContextAdded', field: 'manifest_json.assertions[2].data', explanation: expect.stringContaining('"@context": "https://schema.org" was added') },
    ]);
  });

  it('leaves an assertion alone that states its own @context, and other labels, with no warning', () => {
    const ownContext = { label: 'stds.schema-org.CreativeWork', data: { '@context': 'http://schema.org/', '@type': 'CreativeWork' } };
    const other = { label: 'com.example.notes', data: { '@type': 'Note' } };
    const result = prepareManifestDefinition(JSON.stringify({ assertions: [created, ownContext, other] }));
    expect(JSON.parse(result.json).assertions).toEqual([created, ownContext, other]);
    expect(result.warnings).toEqual([]);
    expect(prepareManifestDefinition('').warnings).toEqual([]);
  });
});
