import { describe, expect, it } from 'vitest';
import { declaresParent, planIntent, SOURCE_INGREDIENT_LABEL } from './sign-intent.js';

/** The definitions each intent hands c2pa-rs; engine-intents.test.ts signs them for real. */

const AI = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
const created = { action: 'c2pa.created', digitalSourceType: AI, softwareAgent: { name: 'Generator', version: '2' }, when: '2026-12-01T00:00:00Z' };
const definition = (actions: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ title: 't', assertions: [{ label: 'c2pa.actions', data: { actions } }, { label: 'stds.schema-org.CreativeWork', data: { '@type': 'CreativeWork' } }], ...extra });
const actionsOf = (json: string) => (JSON.parse(json) as { assertions: Array<{ data: { actions: unknown[] } }> }).assertions[0].data.actions;

describe('planIntent', () => {
  it('create: the digital source type of the first c2pa.created action goes with the intent', () => {
    const plan = planIntent(definition([created, { action: 'c2pa.edited' }]), 'create');
    expect(plan).toMatchObject({ intent: 'create', builderIntent: { create: AI }, addsSourceAsParent: false });
    expect(actionsOf(plan.manifestDefinition)).toEqual([created, { action: 'c2pa.edited' }]);
  });

  it('create: a definition without actions gets the default, or is refused without one', () => {
    const digitalCapture = 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture';
    const plan = planIntent('{}', 'create', { defaultDigitalSourceType: digitalCapture });
    expect(actionsOf(plan.manifestDefinition)).toEqual([{ action: 'c2pa.created', digitalSourceType: digitalCapture }]);
    expect(() => planIntent('{}', 'create')).toThrow(expect.objectContaining({ code: 'invalid_argument', details: expect.objectContaining({ field: 'intent', intent: 'CREATE' }) }));
  });

  it('edit: a first c2pa.created becomes the c2pa.opened of the source, every other field kept', () => {
    const plan = planIntent(definition([created, { action: 'c2pa.color_adjustments' }]), 'edit');
    expect(plan).toMatchObject({ intent: 'edit', builderIntent: 'edit', addsSourceAsParent: true });
    expect(actionsOf(plan.manifestDefinition)).toEqual([
      { ...created, action: 'c2pa.opened', parameters: { ingredientIds: [SOURCE_INGREDIENT_LABEL] } },
      { action: 'c2pa.color_adjustments' },
    ]);
    // Assertions other than actions pass through untouched.
    expect(JSON.parse(plan.manifestDefinition).assertions[1]).toEqual({ label: 'stds.schema-org.CreativeWork', data: { '@type': 'CreativeWork' } });
  });

  it('edit: actions without an inception action are left for c2pa-rs to open; an opened action is linked', () => {
    expect(actionsOf(planIntent(definition([{ action: 'c2pa.cropped' }]), 'edit').manifestDefinition)).toEqual([{ action: 'c2pa.cropped' }]);
    expect(actionsOf(planIntent(definition([{ action: 'c2pa.opened' }]), 'edit').manifestDefinition)).toEqual([
      { action: 'c2pa.opened', parameters: { ingredientIds: [SOURCE_INGREDIENT_LABEL] } },
    ]);
  });

  it('edit refuses what contradicts the source as parent', () => {
    expect(() => planIntent(definition([{ action: 'c2pa.opened', parameters: { ingredientIds: ['mine'] } }]), 'edit')).toThrow(/^intent EDIT: assertions\[0\]\.data\.actions\[0\]\.parameters names ingredients/);
    expect(() => planIntent(definition([created], { ingredients: [{ relationship: 'parentOf', title: 'x' }] }), 'edit')).toThrow(/^intent EDIT: ingredients\[0\] is a parentOf ingredient/);
    expect(() => planIntent(definition([{ action: 'c2pa.edited' }, created]), 'edit')).toThrow(/actions\[1\]\.action is "c2pa\.created", which may only be the first action/);
  });

  it('update: only the update-manifest actions, no ingredients, no created', () => {
    const plan = planIntent(definition([{ action: 'c2pa.edited.metadata' }]), 'update');
    expect(plan).toMatchObject({ intent: 'update', builderIntent: 'update', addsSourceAsParent: true });
    expect(() => planIntent(definition([{ action: 'c2pa.resized' }]), 'update')).toThrow(/^intent UPDATE: .*"c2pa\.resized", but an update manifest changes no content/);
    expect(() => planIntent(definition([created]), 'update')).toThrow(/^intent UPDATE: .*"c2pa\.created", but an update manifest adds no content/);
    expect(() => planIntent(JSON.stringify({ ingredients: [{ relationship: 'componentOf' }] }), 'update')).toThrow(/^intent UPDATE: an update manifest has exactly one ingredient/);
  });

  it('declaresParent: only a parentOf ingredient counts', () => {
    expect(declaresParent(JSON.stringify({ ingredients: [{ relationship: 'parentOf' }] }))).toBe(true);
    expect(declaresParent(JSON.stringify({ ingredients: [{ relationship: 'componentOf' }] }))).toBe(false);
    expect(declaresParent('{}')).toBe(false);
  });
});
