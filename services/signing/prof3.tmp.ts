import { createClient } from '@connectrpc/connect';
import { ADMIN_IDENTITY, createTestMesh } from '@c2pa-mesh/mesh';
import { RegistryService } from '@c2pa-mesh/proto';
import { readFileSync } from 'node:fs';
import { buildTimeStampQuery, readTimeStampResponse } from './src/time-stamp-exchange.ts';
import { createTestPki, testClaimSigner } from '../../packages/engine/src/test-support/test-pki.ts';
const mesh = await createTestMesh();
await mesh.engine!.warmup();
const jpeg = new Uint8Array(readFileSync('/work/shared/fixtures/media/no_manifest.jpg'));
const manifestJson = JSON.stringify({ title: 't', assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia' }] } }] });
const clients = mesh.clientsFor('signing');
const pki = await createTestPki();
for (let i = 0; i < 10; i++) {
  const parts: string[] = [];
  const s0 = performance.now();
  await mesh.engine!.sign({ format: 'image/jpeg', asset: jpeg, manifestDefinition: manifestJson, signer: testClaimSigner(pki, { timeStamp: async (d) => {
    let s = performance.now();
    parts.push(`cb@${(s - s0).toFixed(1)}`);
    const q = buildTimeStampQuery(d); parts.push(`build ${(performance.now() - s).toFixed(1)}`); s = performance.now();
    const r = await clients.certificateAuthority.timestamp({ timestampQuery: q.der }); parts.push(`rpc ${(performance.now() - s).toFixed(1)}`); s = performance.now();
    const t = readTimeStampResponse(r.timestampResponse, q); parts.push(`read ${(performance.now() - s).toFixed(1)}`);
    return t.token;
  } }) });
  parts.push(`total ${(performance.now() - s0).toFixed(1)}`);
  // standalone rpc right after
  let s = performance.now();
  const q = buildTimeStampQuery(new Uint8Array(50));
  await clients.certificateAuthority.timestamp({ timestampQuery: q.der });
  parts.push(`| standalone rpc ${(performance.now() - s).toFixed(1)}`);
  console.log(parts.join(' '));
}
await mesh.close();
