import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, closeServer } from '../../../test/support/cleanup.js';
import { initSync, WasmBuilder } from '@contentauth/c2pa-wasm';
import { MeshError } from '@c2pa-mesh/errors';
import { createEngine } from './engine.js';
import { engineSettings } from './engine-settings.js';
import { InMemoryBlob, installFileReaderSync } from './file-reader-sync.js';
import type { C2paEngine } from './types.js';
import { createTestPki, testClaimSigner } from './test-support/test-pki.js';
import { createdManifest, readMedia } from './test-support/media-fixtures.js';

/**
 * An asset can name a URL for its manifest (XMP dcterms:provenance). Reading it must not make the
 * server fetch that URL: the engine's settings turn remote manifests and OCSP fetching off and
 * allow no hosts. A local server holding the real manifest counts the requests that arrive.
 */

let engine: C2paEngine;
let server: Server;
let requests = 0;
let remoteAsset: Uint8Array;
let manifestStore: Uint8Array = new Uint8Array();
let manifestUrl: string;

beforeAll(async () => {
  engine = createEngine({ threads: 1 });
  const pki = await createTestPki('Remote Manifest Test');

  // The asset is made here with the engine's own builder, on this thread: the engine package
  // offers no remote-manifest signing, on purpose.
  installFileReaderSync();
  initSync({ module: readFileSync(createRequire(import.meta.url).resolve('@contentauth/c2pa-wasm/c2pa.wasm')) });
  server = createServer((_request, response) => {
    requests++;
    response.writeHead(200, { 'content-type': 'application/c2pa' }).end(manifestStore);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  manifestUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/manifest.c2pa`;

  const signer = testClaimSigner(pki);
  const builder = WasmBuilder.fromJson(createdManifest('stored remotely'), engineSettings());
  builder.setRemoteUrl(manifestUrl);
  builder.setNoEmbed(true);
  const signed = (await builder.signAndGetManifestBytes(
    { alg: signer.alg, reserveSize: signer.reserveSize, sign: (claim) => signer.sign(claim) as Promise<Uint8Array<ArrayBuffer>> },
    [],
    'image/jpeg',
    new InMemoryBlob(readMedia('no_manifest.jpg')).asBlob(),
  )) as { manifest: Uint8Array; asset: Uint8Array };
  builder.free();
  manifestStore = signed.manifest;
  remoteAsset = signed.asset;
});

afterAll(() => cleanUp({ engine: () => engine?.close(), server: () => closeServer(server) }));

describe('no network from inside the engine', () => {
  it('does not fetch a remote manifest; says where the manifest lives instead', async () => {
    const error = await engine.read({ format: 'image/jpeg', asset: remoteAsset }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).code).toBe('failed_precondition');
    expect((error as MeshError).message).toMatch(/refers to http:\/\/127\.0\.0\.1:\d+\/manifest\.c2pa; remote manifests are not fetched/);
    expect(requests).toBe(0);
    // The server was there, holding the real manifest store: a fetch would have found it.
    const served = new Uint8Array(await (await fetch(manifestUrl)).arrayBuffer());
    expect(served.length).toBeGreaterThan(1000);
    expect(Buffer.from(served).equals(Buffer.from(manifestStore))).toBe(true);
  });
});
