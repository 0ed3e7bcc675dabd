import { readFileSync } from 'node:fs';
import path from 'node:path';
import { toJson } from '@bufbuild/protobuf';
import { StructSchema } from '@bufbuild/protobuf/wkt';
import { ConnectError } from '@connectrpc/connect';
import { createEngine, type C2paEngine } from '@c2pa-mesh/engine';
import { RegistryService, SigningService } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../support/cleanup.js';
import { startFourProcessMesh, type FourProcessMesh } from '../support/four-processes.js';
import { meshClient, type ClientCredentials } from '../support/mesh-clients.js';
import { FIXTURES, startMeshProcess, type MeshProcess } from '../support/start-mesh.js';

/**
 * The same Sign against the mesh as one process (the services call each other as functions) and as
 * four processes (Connect over mTLS between them): the same answers, refusals included, and the
 * same audit trail for the caller's project.
 */

const TRAINED = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
const manifest = JSON.stringify({ title: 'one or four', assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED }] } }] });
const jpeg = new Uint8Array(readFileSync(path.join(FIXTURES, 'no_manifest.jpg')));

interface Layout {
  name: string;
  signingUrl: string;
  registryUrl: string;
  admin: ClientCredentials;
  rootPath: string;
}

let one: MeshProcess;
let four: FourProcessMesh;
let engine: C2paEngine;
const layouts: Layout[] = [];

beforeAll(async () => {
  engine = createEngine({ threads: 1 });
  // One after the other: five processes starting at once on two cores would take long.
  four = await startFourProcessMesh({ timeoutMs: 240_000 });
  one = await startMeshProcess({ timeoutMs: 240_000 });
  const credentials = (p: MeshProcess) => ({ caPath: p.files.meshCa, certPath: p.files.adminCert, keyPath: p.files.adminKey });
  layouts.push(
    { name: 'one process', signingUrl: one.url, registryUrl: one.url, admin: credentials(one), rootPath: one.files.c2paRoot },
    {
      name: 'four processes',
      signingUrl: four.processes.signing.url,
      registryUrl: four.processes.registry.url,
      admin: credentials(four.processes.registry),
      rootPath: four.processes.signing.files.c2paRoot,
    },
  );
  // Five mesh processes start here, one after the other.
}, 600_000);
afterAll(() => cleanUp({ one: () => one?.stop(), four: () => four?.stop(), engine: () => engine?.close() }));

/** Everything a caller sees of a Sign and its refusals, minus what differs by PKI, id or clock. */
async function signWalk(layout: Layout) {
  const registry = meshClient(RegistryService, layout.registryUrl, layout.admin);
  const signing = meshClient(SigningService, layout.signingUrl, layout.admin);
  const { projectId } = await registry.createProject({ name: 'one or four processes' });
  const signed = await signing.sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest, projectId, title: 'one or four', tags: ['layout'] });
  const report = await engine.read({ format: 'image/jpeg', asset: signed.signedAsset, trustAnchorsPem: readFileSync(layout.rootPath, 'utf8') });
  const { asset } = await registry.getAsset({ assetId: signed.assetId });
  const refusal = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    return error && { code: error.code, message: error.rawMessage.replaceAll(projectId, '<project>'), details: error.findDetails(StructSchema).map((d) => toJson(StructSchema, d)) };
  };
  const refusals = {
    unknownSigner: await refusal(signing.sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest, projectId, signerId: 'crt_nobody' })),
    unknownProject: await refusal(signing.sign({ asset: jpeg, format: 'image/jpeg', manifestJson: manifest, projectId: 'prj_nobody' })),
    notJpeg: await refusal(signing.sign({ asset: new Uint8Array(64).fill(0x41), format: 'image/jpeg', manifestJson: manifest, projectId })),
  };
  const { events } = await registry.listAuditEvents({ projectId, pageSize: 500 });
  return {
    projectId,
    answer: {
      inputSha256: signed.inputSha256,
      format: signed.format,
      requestIdMatches: asset?.requestId === signed.requestId,
      registered: { projectId: asset?.projectId === projectId, assetSha256: asset?.assetSha256 === signed.assetSha256, title: asset?.title, tags: asset?.tags },
      warnings: signed.warnings.map((w) => w.code),
      validationState: report?.validationState,
      errors: report?.errors.map((e) => e.code),
      successes: [...new Set(report?.successes.map((s) => s.code))].sort(),
    },
    refusals,
    // Oldest first; what differs by clock, address or id left out.
    audit: events
      .map((e) => ({ operation: e.operation, status: e.status, code: e.code, identity: e.identity, format: e.format, sizeBytes: e.sizeBytes, error: e.error.replaceAll(projectId, '<project>') }))
      .reverse(),
    signRequestIdAudited: events.some((e) => e.operation === 'Sign' && e.requestId === signed.requestId),
  };
}

describe('one process and four processes', () => {
  it('give the same answers and the same audit trail for a Sign', async () => {
    const [inOne, inFour] = await Promise.all(layouts.map(signWalk));
    expect(inOne.answer.validationState).toBe('Trusted');
    expect(inOne.answer.errors).toEqual([]);
    expect(inOne.answer.successes).toEqual(expect.arrayContaining(['timeStamp.validated', 'timeStamp.trusted', 'signingCredential.ocsp.notRevoked']));
    expect(inOne.answer).toEqual(inFour.answer);
    // MeshError.details cross the wire as a google.protobuf.Struct error detail.
    expect(inOne.refusals.unknownSigner?.details).toEqual([{ field: 'signer_id' }]);
    expect(inOne.refusals).toEqual(inFour.refusals);
    expect(inOne.signRequestIdAudited).toBe(true);
    expect(inFour.signRequestIdAudited).toBe(true);
    expect(inOne.audit.map((e) => e.operation)).toContain('Sign');
    expect(inOne.audit).toEqual(inFour.audit);
  });
});
