import { Code } from '@connectrpc/connect';
import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignerDirectory } from './signer-directory.js';
import {
  TRAINED_ALGORITHMIC_MEDIA,
  caClient,
  createProject,
  failure,
  generatorManifest,
  issueProjectSigner,
  projectKey,
  readMedia,
  registryClient,
  signingClient,
} from './test-support/signing-test-kit.js';

/**
 * Every input rule of Sign: each refusal has its code and a message naming what to change, and
 * nothing is signed, time-stamped or registered for a refused request.
 */

let mesh: TestMesh;
let projectId: string;
let otherProjectId: string;
const jpeg = readMedia('no_manifest.jpg');
const manifest = generatorManifest('input rules');

beforeAll(async () => {
  mesh = await createTestMesh();
  [projectId, otherProjectId] = await Promise.all([createProject(mesh, 'Rules'), createProject(mesh, 'Other')]);
});
afterAll(async () => {
  await mesh?.close();
});

/** How often the CA signed or time-stamped, and how many assets the project has. */
async function sideEffects() {
  const registry = registryClient(mesh);
  const count = async (operation: string) => {
    let total = 0;
    let pageToken = '';
    do {
      const page = await registry.listAuditEvents({ operation, pageSize: 500, pageToken });
      total += page.events.length;
      pageToken = page.nextPageToken;
    } while (pageToken);
    return total;
  };
  const [signData, timestamps, assets] = await Promise.all([
    count('SignData'),
    count('Timestamp'),
    registry.listAssets({ projectId, pageSize: 500 }).then((r) => r.assets.length),
  ]);
  return { signData, timestamps, assets };
}

const actions = (list: unknown[]) => JSON.stringify({ title: 'x', assertions: [{ label: 'c2pa.actions', data: { actions: list } }] });

describe('Sign refuses bad input before anything is signed or written', () => {
  let before: Awaited<ReturnType<typeof sideEffects>>;
  beforeAll(async () => {
    before = await sideEffects();
  });

  const cases: Array<[string, () => Record<string, unknown>, Code, RegExp]> = [
    ['a missing format', () => ({ format: '' }), Code.InvalidArgument, /^format is required/],
    ['an unknown format', () => ({ format: 'image/x-unknown' }), Code.InvalidArgument, /format "image\/x-unknown" is not supported; supported formats are image\/jpeg, /],
    ['a format the engine reads but cannot sign', () => ({ format: 'application/c2pa', asset: new Uint8Array([0, 0, 0, 8, ...new TextEncoder().encode('jumb'), ...new Uint8Array(200)]) }), Code.FailedPrecondition, /^C2PA manifest store assets can be verified but not signed$/],
    ['a format this engine build does not sign', () => ({ format: 'docx' }), Code.InvalidArgument, /^format "docx" is not supported; supported formats are image\/jpeg, .*image\/heic/],
    ['a bare JPEG XL codestream', () => ({ format: 'image/jxl', asset: new Uint8Array([0xff, 0x0a, ...new Uint8Array(200).fill(7)]) }), Code.InvalidArgument, /^a bare JPEG XL codestream cannot carry Content Credentials; send the image in the JPEG XL container/],
    ['magic bytes of another format', () => ({ format: 'image/png' }), Code.InvalidArgument, /^declared image\/png but the bytes are a JPEG$/],
    ['bytes of no known format', () => ({ format: 'image/jpeg', asset: new Uint8Array(500).fill(7) }), Code.InvalidArgument, /^declared image\/jpeg but the bytes are not a JPEG file/],
    ['an empty asset', () => ({ asset: new Uint8Array(0) }), Code.InvalidArgument, /^asset is empty/],
    ['an asset under 100 bytes', () => ({ asset: jpeg.subarray(0, 99) }), Code.InvalidArgument, /^asset is only 99 bytes; a media file to sign has at least 100/],
    ['manifest_json that is not JSON', () => ({ manifestJson: '{"title": ' }), Code.InvalidArgument, /^manifest_json is not valid JSON: /],
    ['manifest_json that is not an object', () => ({ manifestJson: '[1, 2]' }), Code.InvalidArgument, /^manifest_json must be a JSON object \(a C2PA manifest definition\), not an array$/],
    ['an unknown manifest field', () => ({ manifestJson: JSON.stringify({ titel: 'typo' }) }), Code.InvalidArgument, /^manifest_json: titel is not a manifest definition field; known fields are /],
    ['a manifest field of the wrong type', () => ({ manifestJson: JSON.stringify({ title: 5 }) }), Code.InvalidArgument, /^manifest_json: title must be a string, not an integer$/],
    ['assertions that are not an array', () => ({ manifestJson: JSON.stringify({ assertions: { label: 'c2pa.actions' } }) }), Code.InvalidArgument, /^manifest_json: assertions must be an array, not an object$/],
    ['an assertion without a label', () => ({ manifestJson: JSON.stringify({ assertions: [{ data: {} }] }) }), Code.InvalidArgument, /^manifest_json: assertions\[0\]\.label is required/],
    ['an assertion without data', () => ({ manifestJson: JSON.stringify({ assertions: [{ label: 'c2pa.actions' }] }) }), Code.InvalidArgument, /^manifest_json: assertions\[0\]\.data is required/],
    ['no c2pa.actions assertion for new content', () => ({ manifestJson: JSON.stringify({ assertions: [{ label: 'stds.schema-org.CreativeWork', data: {} }] }) }), Code.InvalidArgument, /^intent CREATE: a digitalSourceType is required for new content: make the first action \{"action": "c2pa\.created"/],
    ['an empty action list', () => ({ manifestJson: actions([]) }), Code.InvalidArgument, /^manifest_json: assertions\[0\]\.data\.actions must list at least one action$/],
    ['new content whose first action is not c2pa.created', () => ({ manifestJson: actions([{ action: 'c2pa.edited' }]) }), Code.InvalidArgument, /^intent CREATE: the first action is "c2pa\.edited", but new content starts with "c2pa\.created"/],
    ['c2pa.created without digitalSourceType', () => ({ manifestJson: actions([{ action: 'c2pa.created' }]) }), Code.InvalidArgument, /^manifest_json: assertions\[0\]\.data\.actions\[0\]\.digitalSourceType is required for a c2pa\.created action/],
    ['a later c2pa.created without digitalSourceType', () => ({ manifestJson: actions([{ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA }, { action: 'c2pa.created' }]) }), Code.InvalidArgument, /actions\[1\]\.digitalSourceType is required/],
    ['claim_generator_info without a name', () => ({ manifestJson: JSON.stringify({ ...JSON.parse(manifest), claim_generator_info: [{ version: '1' }] }) }), Code.InvalidArgument, /^manifest_json: claim_generator_info\[0\]\.name is required/],
    ['c2pa.opened on an asset without a manifest, intent unset', () => ({ manifestJson: actions([{ action: 'c2pa.opened' }]) }), Code.InvalidArgument, /^intent CREATE: the first action is "c2pa\.opened", but new content starts with "c2pa\.created" \(with a digitalSourceType\); sign with intent EDIT/],
    ['c2pa.placed without an ingredient', () => ({ manifestJson: actions([{ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA }, { action: 'c2pa.placed' }]) }), Code.InvalidArgument, /^manifest_json: assertions\[0\]\.data\.actions\[1\]\.parameters\.ingredientIds is required for a c2pa\.placed action/],
    ['an explicit CREATE without a digitalSourceType', () => ({ intent: 1, manifestJson: JSON.stringify({ title: 'x' }) }), Code.InvalidArgument, /^intent CREATE: a digitalSourceType is required/],
    ['an explicit UPDATE with a content action', () => ({ intent: 3, manifestJson: actions([{ action: 'c2pa.edited' }]) }), Code.InvalidArgument, /^intent UPDATE: assertions\[0\]\.data\.actions\[0\]\.action is "c2pa\.edited", but an update manifest changes no content/],
    ['an explicit UPDATE of an asset without a manifest', () => ({ intent: 3, manifestJson: JSON.stringify({ title: 'x' }) }), Code.FailedPrecondition, /^intent UPDATE: the asset carries no C2PA manifest to update; sign it with intent CREATE or EDIT$/],
    ['an intent this version does not know', () => ({ intent: 9 }), Code.InvalidArgument, /^intent 9 is not a sign intent/],
    ['an action naming an ingredient that is not there', () => ({ manifestJson: JSON.stringify({ ingredients: [{ title: 'parent.jpg', format: 'image/jpeg', relationship: 'parentOf', label: 'parent' }], assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.opened', parameters: { ingredientIds: ['parnet'] } }] } }] }) }), Code.InvalidArgument, /^manifest_json: assertions\[0\]\.data\.actions\[0\]\.parameters\.ingredientIds\[0\] names no ingredient: "parnet" is not the label/],
    ['an empty tag', () => ({ tags: ['ok', ' '] }), Code.InvalidArgument, /^tags\[1\] is empty$/],
    ['a title longer than the registry keeps', () => ({ title: 'x'.repeat(501) }), Code.InvalidArgument, /^title is 501 characters long; at most 500/],
    ['a signer id that is not an id', () => ({ signerId: '../etc/passwd' }), Code.InvalidArgument, /^signer_id is not a signer id/],
    ['an unknown signer', () => ({ signerId: 'crt_doesnotexist' }), Code.NotFound, /^no signer crt_doesnotexist; ListSigners shows the signers you may use$/],
    ['a mesh-wide caller without project_id', () => ({ projectId: '' }), Code.InvalidArgument, /^project_id is required: this identity acts for no project/],
    ['an unknown project', () => ({ projectId: 'prj_doesnotexist' }), Code.NotFound, /^no project prj_doesnotexist$/],
  ];

  it.each(cases)('%s', async (_name, overrides, code, message) => {
    const error = await failure(signingClient(mesh).sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest, projectId, ...overrides() }));
    expect(error.code, error.rawMessage).toBe(code);
    expect(error.rawMessage).toMatch(message);
  });

  it('an asset over the caller\'s limit → resource_exhausted naming the limit', async () => {
    const client = signingClient(mesh, projectKey(projectId, { maxAssetBytes: 50_000 }));
    const error = await failure(client.sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest }));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toBe(`the asset is ${jpeg.length} bytes (0.1 MiB); this caller may sign assets of at most 50000 bytes (0.0 MiB)`);
  });

  it('a key of one project cannot sign for another: not_found, as the registry answers', async () => {
    const error = await failure(signingClient(mesh, projectKey(projectId)).sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest, projectId: otherProjectId }));
    expect(error.code).toBe(Code.NotFound);
    expect(error.rawMessage).toBe(`no project ${otherProjectId}`);
  });

  it('nothing was signed, time-stamped or registered for any of them', async () => {
    expect(await sideEffects()).toEqual(before);
  });
});

describe('signers', () => {
  it("a project's own signer signs for it, and becomes its default", async () => {
    const signer = await issueProjectSigner(mesh, projectId, 'Rules Newsroom Signer');
    const client = signingClient(mesh, projectKey(projectId));
    const named = await client.sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest, signerId: signer.certificateId });
    expect(named.signerId).toBe(signer.certificateId);
    const report = await mesh.engine!.read({ format: 'image/jpeg', asset: named.signedAsset, trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(report?.validationState).toBe('Trusted');
    expect(report?.signer?.commonName).toBe('Rules Newsroom Signer');

    // Without signer_id: the mesh default until the project names its own.
    expect((await client.sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest })).signerId).toBe(mesh.pki.defaultSignerId);
    await registryClient(mesh).updateProject({ projectId, defaultSignerId: signer.certificateId });
    expect((await client.sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest })).signerId).toBe(signer.certificateId);
    await registryClient(mesh).updateProject({ projectId, defaultSignerId: '' });

    const { signers } = await client.listSigners({});
    expect(signers.map((s) => s.id)).toEqual(expect.arrayContaining([signer.certificateId, mesh.pki.defaultSignerId]));
  });

  it("another project's signer → not_found, as a missing one", async () => {
    const foreign = await issueProjectSigner(mesh, otherProjectId, 'Other Newsroom Signer');
    const error = await failure(signingClient(mesh, projectKey(projectId)).sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest, signerId: foreign.certificateId }));
    expect(error.code).toBe(Code.NotFound);
    expect(error.rawMessage).toBe(`no signer ${foreign.certificateId}; ListSigners shows the signers you may use`);
  });

  it('a revoked signer cannot sign → failed_precondition', async () => {
    const signer = await issueProjectSigner(mesh, projectId, 'Soon Revoked Signer');
    const client = signingClient(mesh, projectKey(projectId));
    await client.sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest, signerId: signer.certificateId });
    await caClient(mesh).revokeCertificate({ certificateId: signer.certificateId, reason: 1 });
    const error = await failure(client.sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest, signerId: signer.certificateId }));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toMatch(new RegExp(`^signer ${signer.certificateId} was revoked at \\S+ and can no longer sign`));
    // SignHash and SignStream refuse it alike.
    const hashError = await failure(client.signHash({ contentHash: `sha256:${'ab'.repeat(32)}`, headline: 'x', signerId: signer.certificateId }));
    expect(hashError.code).toBe(Code.FailedPrecondition);
  });

  it('a signer waiting for activation cannot sign → failed_precondition', async () => {
    const signer = await issueProjectSigner(mesh, projectId, 'Pending Signer', { requireActivation: true });
    const error = await failure(signingClient(mesh, projectKey(projectId)).sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest, signerId: signer.certificateId }));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toBe(`signer ${signer.certificateId} is waiting for activation (CertificateAuthorityService.ActivateCertificate) and cannot sign yet`);
  });

  it('an expired signer and one not yet valid cannot sign → failed_precondition', async () => {
    const signer = await issueProjectSigner(mesh, projectId, 'Time Bound Signer');
    const clients = mesh.clientsFor('signing');
    const choice = { signerId: signer.certificateId, project: { projectId, defaultSignerId: '' } };
    const later = createSignerDirectory(clients, () => new Date(Date.parse(signer.notAfter) + 1000));
    await expect(later.resolve(choice)).rejects.toMatchObject({ code: 'failed_precondition', message: `signer ${signer.certificateId} expired at ${signer.notAfter} and can no longer sign; choose another signer (ListSigners)` });
    const earlier = createSignerDirectory(clients, () => new Date(Date.parse(signer.notBefore) - 1000));
    await expect(earlier.resolve(choice)).rejects.toMatchObject({ code: 'failed_precondition', message: `signer ${signer.certificateId} is not valid before ${signer.notBefore}; it cannot sign yet` });
    await expect(createSignerDirectory(clients).resolve(choice)).resolves.toMatchObject({ signerId: signer.certificateId, alg: 'es256' });
  });

  it('a certificate that is not a signing identity (mesh client certificate) → failed_precondition', async () => {
    const { certificate } = await caClient(mesh).issueCertificate({ profile: 'MESH_CLIENT', commonName: 'some client', projectId });
    const error = await failure(signingClient(mesh, projectKey(projectId)).sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest, signerId: certificate!.certificateId }));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toMatch(/is not a C2PA signing identity whose key the mesh holds/);
  });
});

describe('manifest defaults', () => {
  it('c2pa.opened with its parent ingredient signs', async () => {
    const manifestJson = JSON.stringify({
      title: 'edited',
      ingredients: [{ title: 'parent.jpg', format: 'image/jpeg', relationship: 'parentOf', label: 'parent' }],
      assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.opened', parameters: { ingredientIds: ['parent'] } }, { action: 'c2pa.edited' }] } }],
    });
    const response = await signingClient(mesh).sign({ asset: jpeg, format: 'image/jpeg', manifestJson, projectId });
    const report = await mesh.engine!.read({ format: 'image/jpeg', asset: response.signedAsset, trustAnchorsPem: mesh.pki.c2paRoot.pem });
    expect(report?.validationState).toBe('Trusted');
  });

  it('an empty manifest_json gets a c2pa.created action with digitalCapture, the request title and the mesh as claim generator', async () => {
    const response = await signingClient(mesh).sign({ asset: jpeg, format: 'jpg', manifestJson: '', projectId, title: 'Default manifest' });
    expect(response.format).toBe('image/jpeg');
    const store = JSON.parse(response.manifestStoreJson);
    const active = store.manifests[response.activeManifestLabel];
    expect(active.title).toBe('Default manifest');
    expect(active.claim_generator_info[0]).toMatchObject({ name: 'c2pa-mesh' });
    const actionsAssertion = active.assertions.find((a: { label: string }) => a.label.startsWith('c2pa.actions'));
    expect(actionsAssertion.data.actions[0]).toMatchObject({ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture' });
  });

  it('a legacy claim_generator string becomes the claim generator info', async () => {
    const response = await signingClient(mesh).sign({ asset: jpeg, format: 'image/jpeg', manifestJson: generatorManifest('legacy', { claim_generator: 'Newsroom CMS/4.2' }), projectId });
    const active = JSON.parse(response.manifestStoreJson).manifests[response.activeManifestLabel];
    expect(active.claim_generator_info[0]).toMatchObject({ name: 'Newsroom CMS', version: '4.2' });
  });
});
