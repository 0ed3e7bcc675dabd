import { createHash } from 'node:crypto';
import { createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, generatorManifest, issueProjectSigner, projectKey, readMedia, registryClient, signingClient } from './test-support/signing-test-kit.js';

/**
 * Many clients of several projects sign at once, each with its project's own signer: every
 * result must be the caller's asset, with the caller's title, signed by the caller's signer and
 * registered under the caller's project.
 */

let mesh: TestMesh;
const newsrooms: Array<{ projectId: string; signerId: string; signerName: string }> = [];
const SAMPLES = [
  { file: 'no_manifest.jpg', format: 'image/jpeg' },
  { file: 'sample1.png', format: 'image/png' },
  { file: 'sample1.wav', format: 'audio/wav' },
  { file: 'sample1.webp', format: 'image/webp' },
] as const;

beforeAll(async () => {
  mesh = await createTestMesh();
  for (const name of ['North', 'South', 'East']) {
    const projectId = await createProject(mesh, `Concurrent ${name}`);
    const signer = await issueProjectSigner(mesh, projectId, `${name} Desk Signer`);
    await registryClient(mesh).updateProject({ projectId, defaultSignerId: signer.certificateId });
    newsrooms.push({ projectId, signerId: signer.certificateId, signerName: `${name} Desk Signer` });
  }
});
afterAll(async () => {
  await mesh?.close();
});

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('concurrent signing', () => {
  it('24 clients of three projects signing at once get correct, independent results', async () => {
    const jobs = Array.from({ length: 24 }, (_, i) => {
      const newsroom = newsrooms[i % newsrooms.length];
      const sample = SAMPLES[i % SAMPLES.length];
      return { i, newsroom, sample, asset: readMedia(sample.file), title: `concurrent job ${i} for ${newsroom.signerName}` };
    });
    const responses = await Promise.all(
      jobs.map((job) =>
        signingClient(mesh, projectKey(job.newsroom.projectId, { id: `key_${job.i}` })).sign({
          asset: job.asset,
          format: job.sample.format,
          manifestJson: generatorManifest(job.title),
          tags: [`job-${job.i}`],
        }),
      ),
    );

    expect(new Set(responses.map((r) => r.requestId)).size).toBe(jobs.length);
    expect(new Set(responses.map((r) => r.assetId)).size).toBe(jobs.length);
    expect(new Set(responses.map((r) => r.activeManifestLabel)).size).toBe(jobs.length);

    for (const [k, job] of jobs.entries()) {
      const response = responses[k];
      expect(response.signerId).toBe(job.newsroom.signerId);
      expect(response.inputSha256).toBe(sha256(job.asset));
      expect(response.assetSha256).toBe(sha256(response.signedAsset));
      const report = await mesh.engine!.read({ format: job.sample.format, asset: response.signedAsset, trustAnchorsPem: mesh.pki.c2paRoot.pem });
      expect(report?.validationState).toBe('Trusted');
      expect(report?.title).toBe(job.title);
      expect(report?.signer?.commonName).toBe(job.newsroom.signerName);
      expect(report?.activeManifestLabel).toBe(response.activeManifestLabel);
      const { asset } = await registryClient(mesh).getAsset({ assetId: response.assetId });
      expect(asset).toMatchObject({ projectId: job.newsroom.projectId, assetSha256: response.assetSha256, tags: [`job-${job.i}`], requestId: response.requestId, signerId: job.newsroom.signerId });
    }
  });

  it('hash records signed at once stay apart', async () => {
    const hashes = Array.from({ length: 12 }, (_, i) => `sha256:${createHash('sha256').update(`content ${i}`).digest('hex')}`);
    const responses = await Promise.all(
      hashes.map((contentHash, i) => signingClient(mesh, projectKey(newsrooms[i % 3].projectId)).signHash({ contentHash, headline: `record ${i}` })),
    );
    responses.forEach((response, i) => {
      expect(response.contentHash).toBe(hashes[i]);
      expect(JSON.parse(response.payloadJson)).toMatchObject({ content_hash: hashes[i], headline: `record ${i}`, certificate_id: newsrooms[i % 3].signerId });
    });
    expect(new Set(responses.map((r) => r.assetId)).size).toBe(hashes.length);
  });
});
