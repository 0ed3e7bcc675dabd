import { create } from '@bufbuild/protobuf';
import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh';
import { signingV1 } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { C2PA_TS_FORMATS, judgeWithC2paTs } from '@c2pa-mesh/engine/test-support/c2pa-ts-judge';
import { codes, createProject, generatorManifest, readMedia, signingClient, TRAINED_ALGORITHMIC_MEDIA } from './test-support/signing-test-kit.js';

/**
 * Every file Sign and SignStream produce in a format c2pa-ts reads is judged twice: Trusted by
 * c2pa-rs with the mesh's C2PA root as the only anchor, and valid (no error entries) by c2pa-ts,
 * an implementation that shares no code with c2pa-rs.
 */

const SAMPLES: Record<(typeof C2PA_TS_FORMATS)[number], string> = {
  'image/jpeg': 'no_manifest.jpg',
  'image/png': 'sample1.png',
  'image/avif': 'sample1.avif',
};

/** What MirrorStage's own examples send: a CreativeWork with @type and author, but no @context. */
export function mirrorStageManifest(title: string): string {
  return JSON.stringify({
    claim_generator: 'MirrorStage/1.0',
    title,
    assertions: [
      { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA }] } },
      { label: 'stds.schema-org.CreativeWork', data: { '@type': 'CreativeWork', author: [{ '@type': 'Person', name: 'Jane Doe' }] } },
    ],
  });
}

let mesh: TestMesh;
let projectId: string;

beforeAll(async () => {
  mesh = await createTestMesh();
  await mesh.engine!.warmup();
  projectId = await createProject(mesh, 'Independent judge');
});
afterAll(async () => {
  await mesh?.close();
});

async function expectJudgedValid(format: string, signed: Uint8Array) {
  const report = await mesh.engine!.read({ format, asset: signed, trustAnchorsPem: mesh.pki.c2paRoot.pem });
  expect(report?.validationState, JSON.stringify(report?.errors)).toBe('Trusted');
  expect(codes(report?.successes)).toEqual(expect.arrayContaining(['timeStamp.validated', 'timeStamp.trusted', 'claimSignature.validated']));

  const verdict = await judgeWithC2paTs(signed);
  expect(verdict.explained, 'c2pa-ts errors').toEqual([]);
  expect(verdict.valid).toBe(true);
  // What c2pa-ts checked and accepted: the claim signature over the claim, the time-stamp over
  // the signature, and the hard binding of the media.
  expect(verdict.successes).toEqual(expect.arrayContaining(['claimSignature.validated', 'timeStamp.trusted']));
  expect(verdict.successes.some((code) => /^assertion\.(dataHash|bmffHash)\.match$/.test(code)), verdict.successes.join(', ')).toBe(true);
  return { report, verdict };
}

async function signStream(format: string, asset: Uint8Array, manifestJson: string) {
  async function* messages() {
    yield create(signingV1.SignStreamRequestSchema, { payload: { case: 'options', value: create(signingV1.SignStreamOptionsSchema, { format, manifestJson, projectId }) } });
    for (let at = 0; at < asset.length; at += 48 * 1024) {
      yield create(signingV1.SignStreamRequestSchema, { payload: { case: 'chunk', value: asset.subarray(at, at + 48 * 1024) } });
    }
  }
  const chunks: Uint8Array[] = [];
  let result: signingV1.SignStreamResult | undefined;
  for await (const message of signingClient(mesh).signStream(messages())) {
    if (message.payload.case === 'chunk') chunks.push(message.payload.value);
    else if (message.payload.case === 'result') result = message.payload.value;
  }
  return { signed: new Uint8Array(Buffer.concat(chunks)), result: result! };
}

/** The CreativeWork assertion as signed, from the manifest store c2pa-rs reads back. */
function creativeWorkOf(report: Awaited<ReturnType<typeof expectJudgedValid>>['report']) {
  const store = JSON.parse(report!.manifestStoreJson);
  return store.manifests[store.active_manifest].assertions.find((a: { label: string }) => a.label === 'stds.schema-org.CreativeWork').data;
}

const CONTEXT_ADDED = { code: 'manifest.schemaOrgContextAdded', field: 'manifest_json.assertions[1].data' };

describe.each(C2PA_TS_FORMATS.map((format) => [format, SAMPLES[format]]))('%s (%s) judged by c2pa-rs and c2pa-ts', (format, file) => {
  it('Sign: Trusted in c2pa-rs, valid in c2pa-ts, no warnings', async () => {
    const response = await signingClient(mesh).sign({ asset: readMedia(file), format, manifestJson: generatorManifest(`${file} judged`), projectId });
    await expectJudgedValid(format, response.signedAsset);
    expect(response.warnings).toEqual([]);
  });

  it('SignStream: Trusted in c2pa-rs, valid in c2pa-ts, no warnings', async () => {
    const { signed, result } = await signStream(format, readMedia(file), generatorManifest(`${file} streamed and judged`));
    await expectJudgedValid(format, signed);
    expect(result.warnings).toEqual([]);
  });

  it('Sign with a MirrorStage-style manifest without @context: completed, said so, Trusted in c2pa-rs, valid in c2pa-ts', async () => {
    const response = await signingClient(mesh).sign({ asset: readMedia(file), format, manifestJson: mirrorStageManifest(`${file} from MirrorStage`), projectId });
    const { report } = await expectJudgedValid(format, response.signedAsset);
    expect(creativeWorkOf(report)).toEqual({ '@context': 'https://schema.org', '@type': 'CreativeWork', author: [{ '@type': 'Person', name: 'Jane Doe' }] });
    expect(response.warnings).toHaveLength(1);
    expect(response.warnings[0]).toMatchObject(CONTEXT_ADDED);
    expect(response.warnings[0].explanation).toMatch(/"stds\.schema-org\.CreativeWork" assertion had no "@context"/);
  });

  it('SignStream with a MirrorStage-style manifest without @context: the same', async () => {
    const { signed, result } = await signStream(format, readMedia(file), mirrorStageManifest(`${file} streamed from MirrorStage`));
    const { report } = await expectJudgedValid(format, signed);
    expect(creativeWorkOf(report)['@context']).toBe('https://schema.org');
    expect(result.warnings.map((w) => ({ code: w.code, field: w.field }))).toEqual([CONTEXT_ADDED]);
  });
});
