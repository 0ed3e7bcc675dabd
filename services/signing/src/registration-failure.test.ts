import { Code, ConnectError } from '@connectrpc/connect';
import type { MeshClients } from '@c2pa-mesh/clients';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSigningOptions, planAssetSigning, signPlannedAsset } from './asset-signing.js';
import { createOcspStapler } from './ca-credentials.js';
import type { SigningContext } from './deps.js';
import { createIngredientTrust } from './ingredient-trust.js';
import { createSignerDirectory } from './signer-directory.js';
import { createProject, generatorManifest, readMedia } from './test-support/signing-test-kit.js';

/**
 * A signature the registry does not record is not handed out: the call fails, visibly, with the
 * registry's reason. Here the registry is reached through clients whose RegisterAsset is down.
 */

let mesh: TestMesh;
let projectId: string;
beforeAll(async () => {
  mesh = await createTestMesh();
  projectId = await createProject(mesh, 'Registry down');
});
afterAll(async () => {
  await mesh?.close();
});

function withRegistryDown(clients: MeshClients, error: ConnectError): MeshClients {
  const registry = new Proxy(clients.registry, {
    get: (target, property, receiver) => (property === 'registerAsset' ? async () => Promise.reject(error) : Reflect.get(target, property, receiver)),
  });
  return { signing: clients.signing, verification: clients.verification, certificateAuthority: clients.certificateAuthority, registry, transparencyLog: clients.transparencyLog };
}

describe('registration failures', () => {
  it.each([
    [new ConnectError('connection refused', Code.Unavailable), 'unavailable'],
    [new ConnectError('RegisterAsset is not available on this server yet', Code.Unimplemented), 'unavailable'],
  ])('a registry answering %s fails the call; no signed asset is returned', async (error, code) => {
    const clients = withRegistryDown(mesh.clientsFor('signing'), error);
    const deps: SigningContext = { clients, engine: mesh.engine!, config: mesh.config, logger: pino({ level: 'silent' }), signers: createSignerDirectory(clients), staples: createOcspStapler(clients), ingredientTrust: createIngredientTrust(clients) };
    const checked = checkSigningOptions({ format: 'image/jpeg', manifestJson: generatorManifest('unregistered'), signerId: '', title: '', tags: [], projectId });
    const plan = await planAssetSigning(deps, ADMIN_IDENTITY, checked);
    await expect(signPlannedAsset(deps, plan, readMedia('no_manifest.jpg'), { requestId: 'req_registry_down', caller: ADMIN_IDENTITY.id })).rejects.toMatchObject({
      code,
      message: `the asset was signed but the registry did not record it, so it is not returned; retry the request: ${error.rawMessage}`,
    });
  });
  it('a registration whose answer is lost (connection cut after the registry recorded it) is asked again and answered with that one entry', async () => {
    const real = mesh.clientsFor('signing');
    let tries = 0;
    const registry = new Proxy(real.registry, {
      get: (target, property, receiver) =>
        property === 'registerAsset'
          ? async (...args: Parameters<typeof real.registry.registerAsset>) => {
              const answer = await real.registry.registerAsset(...args);
              if (++tries === 1) throw new ConnectError('http/2 stream closed with error code CANCEL (0x8)', Code.Canceled);
              return answer;
            }
          : Reflect.get(target, property, receiver),
    });
    const clients: MeshClients = { ...real, registry };
    const deps: SigningContext = { clients, engine: mesh.engine!, config: mesh.config, logger: pino({ level: 'silent' }), signers: createSignerDirectory(clients), staples: createOcspStapler(clients), ingredientTrust: createIngredientTrust(clients) };
    const checked = checkSigningOptions({ format: 'image/jpeg', manifestJson: generatorManifest('answer lost'), signerId: '', title: '', tags: [], projectId });
    const plan = await planAssetSigning(deps, ADMIN_IDENTITY, checked);
    const signed = await signPlannedAsset(deps, plan, readMedia('no_manifest.jpg'), { requestId: 'req_answer_lost', caller: ADMIN_IDENTITY.id });
    expect(tries).toBe(2);
    const { assets } = await mesh.clientsFor('signing').registry.listAssets({ projectId });
    expect(assets.filter((a) => a.assetSha256 === signed.assetSha256).map((a) => a.assetId)).toEqual([signed.assetId]);
  });
});
