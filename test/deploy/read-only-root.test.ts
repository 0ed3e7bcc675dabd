import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RegistryService, SigningService } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meshClient, type ClientCredentials } from '../support/mesh-clients.js';
import { FIXTURES, REPO_ROOT, startMeshProcess, type MeshProcess } from '../support/start-mesh.js';

/**
 * What the Dockerfile promises (a read-only root filesystem, writes only to the data dir and /tmp),
 * shown without a container engine: the mesh runs in a mount namespace whose root filesystem is
 * remounted read-only, with only its data dir and temporary directory left writable, and signs.
 * Mount namespaces need root: CI runs as root; elsewhere the test says why it does not run.
 */

const ROOT = process.getuid?.() === 0;
if (!ROOT && process.env.CI) throw new Error('the read-only root filesystem test needs root (a mount namespace); CI must run as root');

// $1 data dir, $2 temporary dir, $3 the repository; then the mesh's command.
const READ_ONLY_ROOT = [
  'unshare',
  '--mount',
  'sh',
  '-c',
  'mount --bind / / && mount --bind "$1" "$1" && mount --bind "$2" "$2" && mount -o remount,bind,ro / || exit 90\n' +
    'if touch "$3/.read-only-probe" 2>/dev/null; then echo "the root filesystem is still writable" >&2; exit 91; fi\n' +
    'shift 3; exec "$@"',
  'sh',
];

describe.skipIf(!ROOT)('the mesh on a read-only root filesystem (as the Dockerfile runs it)', () => {
  let mesh: MeshProcess;
  let dataDir: string;
  let tmpDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-ro-data-'));
    tmpDir = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-ro-tmp-'));
    mesh = await startMeshProcess({
      dataDir,
      env: { TMPDIR: tmpDir, HOME: tmpDir },
      wrapper: [...READ_ONLY_ROOT, dataDir, tmpDir, REPO_ROOT],
      timeoutMs: 180_000,
    });
  }, 200_000);
  afterAll(async () => {
    await mesh?.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(tmpDir, { recursive: true, force: true });
  });

  it('starts, bootstraps, signs and writes only to the data dir and TMPDIR', async () => {
    const admin: ClientCredentials = { caPath: mesh.files.meshCa, certPath: mesh.files.adminCert, keyPath: mesh.files.adminKey };
    const { projectId } = await meshClient(RegistryService, mesh.url, admin).createProject({ name: `read-only ${path.basename(dataDir)}` });
    const signed = await meshClient(SigningService, mesh.url, admin).sign({
      asset: new Uint8Array(readFileSync(path.join(FIXTURES, 'no_manifest.jpg'))),
      format: 'image/jpeg',
      manifestJson: JSON.stringify({
        title: 'read-only root',
        assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture' }] } }],
      }),
      projectId,
    });
    expect(signed.signedAsset.length).toBeGreaterThan(0);
    expect(await readdir(path.join(dataDir, 'pki'))).toContain('mesh-ca.pem');
    expect((await fetch(`${mesh.metricsUrl}/readyz`)).status).toBe(200);
    expect(await mesh.stop()).toBe(0);
  });
});
