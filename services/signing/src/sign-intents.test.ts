import { Code, createClient } from '@connectrpc/connect';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { signingV1, verificationV1, VerificationService } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, failure, generatorManifest, readMedia, signingClient, TRAINED_ALGORITHMIC_MEDIA } from './test-support/signing-test-kit.js';

/**
 * Intents through the service (the whole mesh in memory), judged by c2pa-rs with the mesh's C2PA
 * root as the only trust anchor. C.jpg carries a manifest signed by a c2pa-rs test certificate,
 * which is not trusted here.
 */

const { SignIntent } = signingV1;
const { ValidationState } = verificationV1;
const C_JPG = readMedia('C.jpg');
const C_JPG_LABEL = 'contentauth:urn:uuid:b2b1f7fa-b119-4de1-9c0d-c97fbea3f2c3';

let mesh: TestMesh;
let projectId: string;

beforeAll(async () => {
  mesh = await createTestMesh();
  projectId = await createProject(mesh, 'Intents');
});
afterAll(async () => {
  await mesh?.close();
});

const read = (asset: Uint8Array) => mesh.engine!.read({ format: 'image/jpeg', asset, trustAnchorsPem: mesh.pki.c2paRoot.pem });
type Store = { manifests: Record<string, { ingredients?: Array<Record<string, unknown>>; assertions: Array<{ label: string; data: { actions?: Array<{ action: string }> } }> }> };
const firstAction = (json: string, label: string) =>
  (JSON.parse(json) as Store).manifests[label].assertions.find((a) => a.label.startsWith('c2pa.actions'))?.data.actions?.[0];

async function signStream(options: { manifestJson: string; intent: signingV1.SignIntent; title?: string }, asset: Uint8Array) {
  async function* messages() {
    yield { payload: { case: 'options' as const, value: { format: 'image/jpeg', projectId, ...options } } };
    for (let at = 0; at < asset.length; at += 32 * 1024) yield { payload: { case: 'chunk' as const, value: asset.subarray(at, at + 32 * 1024) } };
  }
  const chunks: Uint8Array[] = [];
  let result: signingV1.SignStreamResult | undefined;
  for await (const message of signingClient(mesh).signStream(messages())) {
    if (message.payload.case === 'chunk') chunks.push(message.payload.value);
    if (message.payload.case === 'result') result = message.payload.value;
  }
  return { signedAsset: new Uint8Array(Buffer.concat(chunks)), result: result! };
}

describe('re-signing C.jpg with no intent', () => {
  let response: signingV1.SignResponse;
  beforeAll(async () => {
    response = await signingClient(mesh).sign({ asset: C_JPG, format: 'image/jpeg', manifestJson: generatorManifest('C.jpg re-signed'), projectId });
  });

  it('edits it: both manifests, the new one with a parentOf ingredient and c2pa.opened, Trusted in c2pa-rs', async () => {
    expect(response.intent).toBe(SignIntent.EDIT);
    const report = await read(response.signedAsset);
    // What c2pa-rs says of the whole file: the active manifest is judged (Trusted), the parent's
    // untrusted test certificate stays recorded in the ingredient, not a failure of this file.
    expect(report?.validationState).toBe('Trusted');
    expect(report?.errors).toEqual([]);
    expect(report?.successes.map((e) => e.code)).toEqual(expect.arrayContaining(['signingCredential.trusted', 'timeStamp.trusted', 'ingredient.manifest.validated']));
    const store = JSON.parse(report!.manifestStoreJson) as Store;
    expect(Object.keys(store.manifests).sort()).toEqual([C_JPG_LABEL, response.activeManifestLabel].sort());
    expect(store.manifests[response.activeManifestLabel].ingredients).toEqual([expect.objectContaining({ relationship: 'parentOf', active_manifest: C_JPG_LABEL })]);
    expect(firstAction(report!.manifestStoreJson, response.activeManifestLabel)).toMatchObject({ action: 'c2pa.opened', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA });
  });

  it('Verify lists the chain: the C.jpg parent, its signer and its recorded state', async () => {
    const verified = await createClient(VerificationService, mesh.transport(ADMIN_IDENTITY)).verify({ asset: response.signedAsset, format: 'image/jpeg' });
    expect(verified.validationState).toBe(ValidationState.TRUSTED);
    expect(verified.ingredients.map((i) => ({ ...i, $typeName: undefined }))).toEqual([
      {
        $typeName: undefined,
        title: 'C.jpg',
        relationship: 'parentOf',
        activeManifestLabel: C_JPG_LABEL,
        signer: 'C2PA Signer',
        validationState: ValidationState.VALID,
        parentManifestLabel: response.activeManifestLabel,
        format: 'image/jpeg',
      },
    ]);
    const original = await createClient(VerificationService, mesh.transport(ADMIN_IDENTITY)).verify({ asset: C_JPG, format: 'image/jpeg' });
    expect(original.ingredients).toEqual([]);
  });
});

describe('re-signing a file the mesh signed', () => {
  it('records the parent as Trusted: the engine validates it against the mesh root while signing', async () => {
    const first = await signingClient(mesh).sign({ asset: readMedia('no_manifest.jpg'), format: 'image/jpeg', manifestJson: generatorManifest('first'), projectId });
    expect(first.intent).toBe(SignIntent.CREATE);
    const second = await signingClient(mesh).sign({ asset: first.signedAsset, format: 'image/jpeg', manifestJson: '', projectId });
    expect(second.intent).toBe(SignIntent.EDIT);
    const verified = await createClient(VerificationService, mesh.transport(ADMIN_IDENTITY)).verify({ asset: second.signedAsset });
    expect(verified.validationState).toBe(ValidationState.TRUSTED);
    expect(verified.ingredients.map((i) => [i.title, i.relationship, i.activeManifestLabel, i.signer, i.validationState])).toEqual([
      ['first', 'parentOf', first.activeManifestLabel, 'c2pa-mesh default signer', ValidationState.TRUSTED],
    ]);
  });
});

describe('explicit intents', () => {
  it('CREATE on C.jpg: new content, one manifest, no ingredient', async () => {
    const response = await signingClient(mesh).sign({ asset: C_JPG, format: 'image/jpeg', manifestJson: generatorManifest('new'), projectId, intent: SignIntent.CREATE });
    expect(response.intent).toBe(SignIntent.CREATE);
    const report = await read(response.signedAsset);
    expect(report?.validationState).toBe('Trusted');
    expect(Object.keys(JSON.parse(report!.manifestStoreJson).manifests)).toEqual([response.activeManifestLabel]);
    expect(firstAction(report!.manifestStoreJson, response.activeManifestLabel)).toMatchObject({ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA });
  });

  it('CREATE without a digitalSourceType → invalid_argument; SignStream refuses it before the upload', async () => {
    const manifestJson = JSON.stringify({ title: 'no source type', assertions: [{ label: 'stds.schema-org.CreativeWork', data: { '@context': 'https://schema.org', '@type': 'CreativeWork' } }] });
    const error = await failure(signingClient(mesh).sign({ asset: C_JPG, format: 'image/jpeg', manifestJson, projectId, intent: SignIntent.CREATE }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toMatch(/^intent CREATE: a digitalSourceType is required for new content/);
    const streamed = await failure(signStream({ manifestJson, intent: SignIntent.CREATE }, C_JPG));
    expect(streamed.code).toBe(Code.InvalidArgument);
    expect(streamed.rawMessage).toMatch(/^intent CREATE: a digitalSourceType is required/);
  });

  it('UPDATE of C.jpg through SignStream: an update manifest over the parent, Trusted', async () => {
    const { signedAsset, result } = await signStream({ manifestJson: '', title: 'metadata update', intent: SignIntent.UPDATE }, C_JPG);
    expect(result.intent).toBe(SignIntent.UPDATE);
    const report = await read(signedAsset);
    expect(report?.validationState).toBe('Trusted');
    expect(report?.ingredients.map((i) => [i.relationship, i.activeManifestLabel])).toEqual([['parentOf', C_JPG_LABEL]]);
    const crJson = JSON.parse(report!.manifestStoreJson) as Store;
    expect(crJson.manifests[result.activeManifestLabel].assertions.some((a) => a.label.startsWith('c2pa.hash'))).toBe(false);
  });

  it('EDIT with an empty manifest_json writes only the opened action', async () => {
    const response = await signingClient(mesh).sign({ asset: C_JPG, format: 'image/jpeg', manifestJson: '', projectId, intent: SignIntent.EDIT });
    expect(firstAction(response.manifestStoreJson, response.activeManifestLabel)).toMatchObject({ action: 'c2pa.opened' });
    expect((await read(response.signedAsset))?.validationState).toBe('Trusted');
  });
});
