import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshError } from '@c2pa-mesh/errors';
import { createEngine } from './engine.js';
import type { C2paEngine, SignAssetOptions } from './types.js';
import { createTestPki, testClaimSigner, type TestPki } from './test-support/test-pki.js';
import { createdManifest, MORE_SAMPLES, readMedia, TRAINED_ALGORITHMIC_MEDIA, UNSIGNED_SAMPLES } from './test-support/media-fixtures.js';

/**
 * Builder intents on real files, judged by c2pa-rs reading the result back: C.jpg carries a
 * manifest signed by a c2pa-rs test certificate (untrusted here), no_manifest.jpg carries none.
 */

let engine: C2paEngine;
let pki: TestPki;
const C_JPG_LABEL = 'contentauth:urn:uuid:b2b1f7fa-b119-4de1-9c0d-c97fbea3f2c3';

beforeAll(async () => {
  engine = createEngine({ threads: 1, warmupBytes: 0 });
  [pki] = await Promise.all([createTestPki(), engine.warmup()]);
});
afterAll(async () => {
  await engine.close();
});

type Store = { active_manifest: string; manifests: Record<string, { ingredients?: Array<Record<string, unknown>>; assertions: Array<{ label: string; data: { actions?: Array<Record<string, unknown>> } }> }> };
const storeOf = (json: string) => JSON.parse(json) as Store;
const actionsOf = (store: Store, label: string) => store.manifests[label].assertions.find((a) => a.label.startsWith('c2pa.actions'))?.data.actions ?? [];

const sign = (file: string, o: Partial<SignAssetOptions>) =>
  engine.sign({ format: 'image/jpeg', asset: readMedia(file), manifestDefinition: createdManifest(`${file} re-signed`), signer: testClaimSigner(pki), ...o });

async function rejection(promise: Promise<unknown>): Promise<MeshError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MeshError);
  return error as MeshError;
}

describe('auto (unset) intent', () => {
  it('edits C.jpg: both manifests, the new one with a parentOf ingredient and c2pa.opened; Trusted', async () => {
    const result = await sign('C.jpg', { intent: 'auto' });
    expect(result.intent).toBe('edit');
    const report = await engine.read({ format: 'image/jpeg', asset: result.signedAsset, trustAnchorsPem: pki.root.pem });
    // c2pa-rs judges the active manifest and the ingredient deltas: the parent's untrusted test
    // certificate is recorded in the ingredient, not a failure of the new file.
    expect(report?.validationState).toBe('Trusted');
    expect(report?.errors).toEqual([]);
    const store = storeOf(report!.manifestStoreJson);
    expect(Object.keys(store.manifests).sort()).toEqual([C_JPG_LABEL, result.activeManifestLabel].sort());
    const [parent] = store.manifests[result.activeManifestLabel].ingredients!;
    expect(parent).toMatchObject({ relationship: 'parentOf', active_manifest: C_JPG_LABEL, format: 'image/jpeg' });
    expect((parent.validation_results as { activeManifest: { failure: Array<{ code: string }> } }).activeManifest.failure.map((e) => e.code)).toEqual([
      'signingCredential.untrusted',
    ]);
    // The caller's c2pa.created became the c2pa.opened of the parent, digital source type kept.
    const [opened, ...rest] = actionsOf(store, result.activeManifestLabel);
    expect(opened).toMatchObject({ action: 'c2pa.opened', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA });
    expect((opened.parameters as { ingredients: Array<{ url: string }> }).ingredients[0].url).toMatch(/c2pa\.ingredient/);
    expect(rest.map((a) => a.action)).not.toContain('c2pa.created');
    expect(report?.ingredients).toEqual([
      {
        parentManifestLabel: result.activeManifestLabel,
        relationship: 'parentOf',
        title: 'C.jpg',
        format: 'image/jpeg',
        activeManifestLabel: C_JPG_LABEL,
        signer: 'C2PA Signer',
        validationState: 'Valid',
      },
    ]);
  });

  it('follows the chain into the ingredients of ingredients: XCA.jpg (altered after signing) and its own parent', async () => {
    const result = await sign('XCA.jpg', { intent: 'auto' });
    const report = await engine.read({ format: 'image/jpeg', asset: result.signedAsset, trustAnchorsPem: pki.root.pem });
    // The new manifest is sound; the altered parent is recorded Invalid (its data hash no longer
    // matches), and its own parent, A.jpg, carried no manifest.
    expect(report?.validationState).toBe('Trusted');
    expect(report?.ingredients.map((i) => [i.title, i.relationship, i.parentManifestLabel === result.activeManifestLabel ? 'new' : 'parent', i.validationState ?? 'no manifest'])).toEqual([
      ['CA.jpg', 'parentOf', 'new', 'Invalid'],
      ['A.jpg', 'parentOf', 'parent', 'no manifest'],
    ]);
  });

  it('creates on a file without a manifest, as before intents', async () => {
    const result = await sign('no_manifest.jpg', { intent: 'auto' });
    expect(result.intent).toBe('create');
    const store = storeOf(result.manifestStoreJson);
    expect(Object.keys(store.manifests)).toEqual([result.activeManifestLabel]);
    expect(store.manifests[result.activeManifestLabel].ingredients ?? []).toEqual([]);
    expect(actionsOf(store, result.activeManifestLabel)[0]).toMatchObject({ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA });
  });

  it('refuses a definition without actions on a file without a manifest (create needs a digitalSourceType)', async () => {
    const error = await rejection(sign('no_manifest.jpg', { intent: 'auto', manifestDefinition: JSON.stringify({ title: 'no actions' }) }));
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toMatch(/intent CREATE: a digitalSourceType is required/);
  });

  it('writes the default digital source type for create when the caller sent no actions and named a default', async () => {
    const result = await sign('no_manifest.jpg', {
      intent: 'auto',
      manifestDefinition: JSON.stringify({ title: 'defaulted' }),
      defaultDigitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture',
    });
    expect(actionsOf(storeOf(result.manifestStoreJson), result.activeManifestLabel)[0]).toMatchObject({
      action: 'c2pa.created',
      digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture',
    });
  });
});

describe('explicit intents', () => {
  it('CREATE on C.jpg replaces its history: one manifest, no ingredient, Trusted', async () => {
    const result = await sign('C.jpg', { intent: 'create' });
    expect(result.intent).toBe('create');
    const report = await engine.read({ format: 'image/jpeg', asset: result.signedAsset, trustAnchorsPem: pki.root.pem });
    expect(report?.validationState).toBe('Trusted');
    expect(Object.keys(storeOf(report!.manifestStoreJson).manifests)).toEqual([result.activeManifestLabel]);
    expect(report?.ingredients).toEqual([]);
  });

  it('CREATE without a digitalSourceType is invalid_argument, before any work', async () => {
    const definition = JSON.stringify({ title: 'x', assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created' }] } }] });
    const error = await rejection(sign('C.jpg', { intent: 'create', manifestDefinition: definition }));
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toMatch(/c2pa\.created action needs a digitalSourceType/);
    const none = await rejection(sign('C.jpg', { intent: 'create', manifestDefinition: JSON.stringify({ title: 'x' }) }));
    expect(none.message).toMatch(/digitalSourceType is required/);
  });

  it('EDIT of a file without a manifest: a parent ingredient with no manifest, c2pa.opened', async () => {
    const result = await sign('no_manifest.jpg', { intent: 'edit', manifestDefinition: JSON.stringify({ title: 'edited' }) });
    const report = await engine.read({ format: 'image/jpeg', asset: result.signedAsset, trustAnchorsPem: pki.root.pem });
    expect(report?.validationState).toBe('Trusted');
    expect(report?.ingredients).toEqual([{ parentManifestLabel: result.activeManifestLabel, relationship: 'parentOf', format: 'image/jpeg' }]);
    expect(actionsOf(storeOf(report!.manifestStoreJson), result.activeManifestLabel)[0].action).toBe('c2pa.opened');
  });

  it('UPDATE on C.jpg: an update manifest over the parent, Trusted', async () => {
    const result = await sign('C.jpg', { intent: 'update', manifestDefinition: JSON.stringify({ title: 'metadata fixed' }) });
    expect(result.intent).toBe('update');
    const report = await engine.read({ format: 'image/jpeg', asset: result.signedAsset, trustAnchorsPem: pki.root.pem });
    expect(report?.validationState).toBe('Trusted');
    const store = storeOf(report!.manifestStoreJson);
    expect(Object.keys(store.manifests)).toHaveLength(2);
    expect(store.manifests[result.activeManifestLabel].assertions.some((a) => a.label.startsWith('c2pa.hash'))).toBe(false);
    expect(report?.ingredients.map((i) => [i.relationship, i.activeManifestLabel])).toEqual([['parentOf', C_JPG_LABEL]]);
  });

  it('UPDATE refuses a file without a manifest (failed_precondition) and content actions (invalid_argument)', async () => {
    const noManifest = await rejection(sign('no_manifest.jpg', { intent: 'update', manifestDefinition: JSON.stringify({ title: 'x' }) }));
    expect(noManifest.code).toBe('failed_precondition');
    expect(noManifest.message).toMatch(/carries no C2PA manifest to update/);
    const created = await rejection(sign('C.jpg', { intent: 'update' }));
    expect(created.code).toBe('invalid_argument');
    expect(created.message).toMatch(/intent UPDATE: .*c2pa\.created/);
  });

  it('EDIT refuses a caller-declared parentOf ingredient', async () => {
    const definition = createdManifest('x', { ingredients: [{ title: 'other', relationship: 'parentOf' }] });
    const error = await rejection(sign('C.jpg', { intent: 'edit', manifestDefinition: definition }));
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toMatch(/intent EDIT: ingredients\[0\] is a parentOf ingredient/);
  });
});

describe('every signable format', () => {
  it('is created when unsigned and edited when signed again, the parent recorded Trusted against the anchor given', async () => {
    const samples = [...UNSIGNED_SAMPLES.map((s) => ({ format: s.format, asset: readMedia(s.file) })), ...MORE_SAMPLES.map((s) => ({ format: s.format, asset: readMedia(s.file) }))];
    const seen: Record<string, string> = {};
    for (const { format, asset } of samples) {
      const signer = testClaimSigner(pki);
      const first = await engine.sign({ format, asset, manifestDefinition: createdManifest(format), signer, intent: 'auto' });
      const again = await engine.sign({ format, asset: first.signedAsset, manifestDefinition: createdManifest(format), signer, intent: 'auto', trustAnchorsPem: pki.root.pem });
      const report = await engine.read({ format, asset: again.signedAsset, trustAnchorsPem: pki.root.pem });
      seen[format] = [first.intent, again.intent, report?.validationState, ...(report?.ingredients ?? []).map((i) => `${i.relationship}:${i.activeManifestLabel === first.activeManifestLabel ? 'first' : '?'}:${i.validationState}`)].join(' ');
    }
    expect(seen).toEqual(Object.fromEntries(samples.map((s) => [s.format, 'create edit Trusted parentOf:first:Trusted'])));
  });
});
