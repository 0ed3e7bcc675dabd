import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { create } from '@bufbuild/protobuf';
import { BMFF, JPEG, PNG } from '@trustnxt/c2pa-ts/asset';
import { Decoder, Tag, type Options as CborOptions } from 'cbor-x';
import { coseInManifestStore } from '@c2pa-mesh/engine';
import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
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
function mirrorStageManifest(title: string): string {
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
let scratch: string | undefined;

beforeAll(async () => {
  mesh = await createTestMesh();
  await mesh.engine!.warmup();
  projectId = await createProject(mesh, 'Independent judge');
  scratch = await mkdtemp(path.join(tmpdir(), 'independent-judge-'));
  await writeFile(path.join(scratch, 'root.pem'), mesh.pki.c2paRoot.pem);
  await writeFile(path.join(scratch, 'chain.pem'), mesh.pki.c2paIntermediate.pem);
});
afterAll(async () => {
  await mesh?.close();
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

async function expectJudgedValid(format: string, signed: Uint8Array) {
  const report = await mesh.engine!.read({ format, asset: signed, trustAnchorsPem: mesh.pki.c2paRoot.pem });
  expect(report?.validationState, JSON.stringify(report?.errors)).toBe('Trusted');
  expect(codes(report?.successes)).toEqual(expect.arrayContaining(['timeStamp.validated', 'timeStamp.trusted', 'claimSignature.validated']));

  const verdict = await judgeWithC2paTs(signed);
  expect(verdict.explained, 'c2pa-ts errors').toEqual([]);
  expect(verdict.valid).toBe(true);
  // What c2pa-ts checked and accepted: the claim signature over the claim, the time-stamp over
  // the signature, and the hard binding of the media. (Its signingCredential.trusted checks the
  // certificate profile only; c2pa-ts has no trust list, so trust is c2pa-rs's verdict above.)
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

const run = promisify(execFile);
const cbor = new Decoder({ mapsAsObjects: false, useRecords: false } as CborOptions);

/** A CBOR byte string (major type 2), its length header written out. */
function bstr(bytes: Uint8Array): Buffer {
  const n = bytes.length;
  const header = n < 24 ? [0x40 | n] : n < 0x100 ? [0x58, n] : n < 0x10000 ? [0x59, n >> 8, n & 0xff] : [0x5a, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from(header), bytes]);
}

/**
 * The message imprint of a C2PA v2 time-stamp, written out from DESIGN.md rather than taken from
 * the code under test: SHA-256 of the CBOR array ["CounterSignature", bstr(protected), h'',
 * bstr(cbor(bstr(signature)))].
 */
function counterSignatureImprint(protectedBytes: Uint8Array, signature: Uint8Array): string {
  const structure = Buffer.concat([Buffer.from([0x84, 0x70]), Buffer.from('CounterSignature', 'latin1'), bstr(protectedBytes), Buffer.from([0x40]), bstr(bstr(signature))]);
  return createHash('sha256').update(structure).digest('hex');
}

/** The active manifest's COSE_Sign1, found through c2pa-ts's container readers and the JUMBF path. */
function claimSignatureOf(signed: Uint8Array, activeManifestLabel: string) {
  const bytes = new Uint8Array(signed);
  const asset = JPEG.canRead(bytes) ? new JPEG(bytes) : PNG.canRead(bytes) ? new PNG(bytes) : new BMFF(bytes);
  const store = asset.getManifestJUMBF();
  expect(store, 'the signed file carries a manifest store').toBeDefined();
  const cose = coseInManifestStore(store!, activeManifestLabel);
  expect(cose, 'the manifest store holds the active manifest\'s signature').toBeDefined();
  const decoded = cbor.decode(cose!) as Tag;
  expect(decoded.tag).toBe(18);
  const [protectedBytes, unprotected, , signature] = decoded.value as [Uint8Array, Map<string, unknown>, null, Uint8Array];
  const sigTst2 = unprotected.get('sigTst2') as Map<string, Array<Map<string, Uint8Array>>>;
  return { protectedBytes, signature, timeStamps: sigTst2.get('tstTokens')!.map((entry) => entry.get('val')!) };
}

async function opensslTsVerify(reply: Uint8Array, digestHex: string) {
  await writeFile(path.join(scratch!, 'resp.tsr'), reply);
  return run('openssl', ['ts', '-verify', '-in', 'resp.tsr', '-digest', digestHex, '-CAfile', 'root.pem', '-untrusted', 'chain.pem'], { cwd: scratch }).then(
    ({ stdout }) => stdout.trim(),
    (error: { stdout?: string; stderr?: string }) => `failed: ${error.stdout ?? ''}${error.stderr ?? ''}`.trim(),
  );
}

describe('the time-stamp in a signature, judged by openssl', () => {
  it.each([
    ['image/jpeg', 'no_manifest.jpg'],
    ['image/avif', 'sample1.avif'],
  ])('%s: sigTst2 holds one TimeStampResp that openssl ts -verify accepts for the CounterSignature imprint, to the mesh root', async (format, file) => {
    const response = await signingClient(mesh).sign({ asset: readMedia(file), format, manifestJson: generatorManifest(`${file} time-stamp`), projectId });
    const { protectedBytes, signature, timeStamps } = claimSignatureOf(response.signedAsset, response.activeManifestLabel);
    expect(timeStamps).toHaveLength(1);
    const [reply] = timeStamps;
    // As c2pa-rs writes it: SEQUENCE (long form), then PKIStatusInfo {granted}.
    expect(Buffer.from(reply.subarray(0, 2)).toString('hex')).toBe('3082');
    expect(Buffer.from(reply.subarray(4, 9)).toString('hex')).toBe('3003020100');

    const imprint = counterSignatureImprint(protectedBytes, signature);
    expect(await opensslTsVerify(reply, imprint)).toBe('Verification: OK');
    // The judge can say no: any other imprint (here, over the signature without the double wrap).
    const otherImprint = createHash('sha256').update(Buffer.concat([Buffer.from([0x84, 0x70]), Buffer.from('CounterSignature', 'latin1'), bstr(protectedBytes), Buffer.from([0x40]), bstr(signature)])).digest('hex');
    expect(await opensslTsVerify(reply, otherImprint)).toMatch(/failed: .*message imprint mismatch/is);
  });
});

describe('a file that already has Content Credentials, signed again', () => {
  it('C.jpg re-signed with no intent: both manifests kept, the new one with a parentOf ingredient, Trusted in c2pa-rs, valid in c2pa-ts', async () => {
    const original = readMedia('C.jpg');
    const response = await signingClient(mesh).sign({ asset: original, format: 'image/jpeg', manifestJson: JSON.stringify({ title: 'C.jpg, re-signed' }), projectId });
    expect(response.intent).toBe(signingV1.SignIntent.EDIT);
    const { report, verdict } = await expectJudgedValid('image/jpeg', response.signedAsset);

    const store = JSON.parse(report!.manifestStoreJson);
    const labels = Object.keys(store.manifests);
    expect(labels).toHaveLength(2);
    expect(store.active_manifest).toBe(response.activeManifestLabel);
    const active = store.manifests[store.active_manifest];
    const parent = active.ingredients.find((i: { relationship: string }) => i.relationship === 'parentOf');
    expect(parent.format).toBe('image/jpeg');
    // The ingredient's own manifest is the one C.jpg carried, kept in the store beside the new one.
    expect(labels).toContain(parent.active_manifest);
    expect(parent.active_manifest).not.toBe(store.active_manifest);
    const actions = active.assertions.find((a: { label: string }) => /^c2pa\.actions/.test(a.label)).data.actions;
    expect(actions[0].action).toBe('c2pa.opened');
    // c2pa-ts read the ingredient too and found nothing wrong with it.
    expect(verdict.explained).toEqual([]);
  });
});
