import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Code, ConnectError } from '@connectrpc/connect';
import { RegistryService, SigningService } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meshClient, type ClientCredentials } from '../support/mesh-clients.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { FIXTURES, REPO_ROOT, startMeshProcess, type MeshProcess } from '../support/start-mesh.js';

/**
 * The operations listener of a mesh started as `npm start` does: probes, and Prometheus text that
 * counts real calls made over TLS — by code, with latency, engine, PKI, database and webhook
 * figures beside Node's own. The exposition is read by a strict parser of the text format.
 */

const run = promisify(execFile);
const SIGNING = 'c2pamesh.signing.v1.SigningService';
const MANIFEST = JSON.stringify({
  title: 'metrics',
  assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture' }] } }],
});

async function codeOf(call: Promise<unknown>): Promise<Code | 'ok'> {
  try {
    await call;
    return 'ok';
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

describe('metrics and probes on their own listener', () => {
  let mesh: MeshProcess;
  let scratch: string;
  const admin = (): ClientCredentials => ({ caPath: mesh.files.meshCa, certPath: mesh.files.adminCert, keyPath: mesh.files.adminKey });
  const scrape = async () => {
    const response = await fetch(`${mesh.metricsUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    return { text, families: parsePrometheusText(text) };
  };

  beforeAll(async () => {
    mesh = await startMeshProcess({ timeoutMs: 180_000 });
    scratch = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-e2e-metrics-'));
  }, 200_000);
  afterAll(async () => {
    await mesh?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('listens on MESH_METRICS_PORT, bound like MESH_HOST, and names the URL in the ready line', () => {
    expect(mesh.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(mesh.readyLine).toContain(` metrics=${mesh.metricsUrl} `);
  });

  it('answers /livez and /readyz with 200 once the database, the engine and the CA are ready', async () => {
    const live = await fetch(`${mesh.metricsUrl}/livez`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${mesh.metricsUrl}/readyz`);
    expect(await ready.text()).toBe('database: ok\nengine: ok\nca: ok\nrpc: ok\n');
    expect(ready.status).toBe(200);
    expect((await fetch(`${mesh.metricsUrl}/nothing`)).status).toBe(404);
  });

  it('counts a Sign by code, times it and shows the engine, PKI, database and webhook figures', async () => {
    const registry = meshClient(RegistryService, mesh.url, admin());
    const { projectId } = await registry.createProject({ name: `metrics ${path.basename(scratch)}` });
    const signing = meshClient(SigningService, mesh.url, admin());
    const jpeg = new Uint8Array(readFileSync(path.join(FIXTURES, 'no_manifest.jpg')));
    expect(await codeOf(signing.sign({ asset: jpeg, format: 'image/jpeg', manifestJson: MANIFEST, projectId }))).toBe('ok');
    expect(await codeOf(signing.sign({ asset: new Uint8Array(), format: 'image/jpeg', manifestJson: MANIFEST, projectId }))).toBe(Code.InvalidArgument);
    expect(await codeOf(meshClient(SigningService, mesh.url, { caPath: mesh.files.meshCa }).listSigners({}))).toBe(Code.Unauthenticated);

    const { text, families } = await scrape();
    // The line an operator greps for, exactly.
    expect(text).toContain(`c2pamesh_rpc_requests_total{service="${SIGNING}",method="Sign",code="ok"} 1\n`);
    expect(families.get('c2pamesh_rpc_requests_total')?.type).toBe('counter');
    expect(sampleValue(families, 'c2pamesh_rpc_requests_total', { service: SIGNING, method: 'Sign', code: 'invalid_argument' })).toBe(1);
    expect(sampleValue(families, 'c2pamesh_rpc_requests_total', { service: SIGNING, method: 'ListSigners', code: 'unauthenticated' })).toBe(1);
    // The Sign's own calls to the CA (time-stamp, OCSP) and the registry are RPCs too.
    expect(sampleValue(families, 'c2pamesh_rpc_requests_total', { service: 'c2pamesh.registry.v1.RegistryService', method: 'CreateProject', code: 'ok' })).toBe(1);
    expect(sampleValue(families, 'c2pamesh_rpc_duration_seconds_count', { service: SIGNING, method: 'Sign', code: 'ok' })).toBe(1);
    const signSeconds = sampleValue(families, 'c2pamesh_rpc_duration_seconds_sum', { service: SIGNING, method: 'Sign', code: 'ok' })!;
    expect(signSeconds).toBeGreaterThan(0);
    expect(signSeconds).toBeLessThan(60);
    expect(sampleValue(families, 'c2pamesh_rpc_in_flight', { service: SIGNING, method: 'Sign' })).toBe(0);

    expect(sampleValue(families, 'c2pamesh_engine_threads')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(families, 'c2pamesh_engine_queue_depth')).toBe(0);
    // Warm-up (a sign and a read per worker) and the Sign.
    expect(sampleValue(families, 'c2pamesh_engine_tasks_completed_total')).toBeGreaterThanOrEqual(2);
    expect(sampleValue(families, 'c2pamesh_engine_workers_recycled_total')).toBe(0);
    expect(sampleValue(families, 'c2pamesh_engine_jobs_over_budget_total')).toBe(0);
    expect(families.get('c2pamesh_engine_queue_wait_seconds')?.type).toBe('histogram');
    expect(sampleValue(families, 'c2pamesh_engine_queue_wait_seconds_count', { kind: 'sign' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(families, 'c2pamesh_tsa_requests_total', { outcome: 'granted' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(families, 'c2pamesh_ocsp_responses_signed_total')).toBeGreaterThanOrEqual(1);

    const driver = process.env.DATABASE_URL ? 'pg' : 'pglite';
    expect(sampleValue(families, 'c2pamesh_db_pool_max_connections', { driver })).toBe(driver === 'pg' ? 10 : 1);
    expect(sampleValue(families, 'c2pamesh_db_pool_open_connections', { driver })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(families, 'c2pamesh_webhook_deliveries_pending')).toBe(0);
    expect(families.get('c2pamesh_rate_limit_refusals_total')?.type).toBe('counter');
    // Node's runtime metrics.
    expect(sampleValue(families, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sampleValue(families, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(families.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
  });

  it('counts OCSP cache hits of the relying-party responder', async () => {
    const [signer] = (await meshClient(SigningService, mesh.url, admin()).listSigners({})).signers;
    const leaf = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(signer.certificateChainPem)![0];
    await writeFile(path.join(scratch, 'leaf.pem'), `${leaf}\n`);
    await writeFile(path.join(scratch, 'intermediate.pem'), await (await fetch(`${mesh.pkiUrl}/ca/intermediate.pem`)).text());
    await run('openssl', ['ocsp', '-issuer', 'intermediate.pem', '-cert', 'leaf.pem', '-no_nonce', '-reqout', 'request.der'], { cwd: scratch });
    const request = await readFile(path.join(scratch, 'request.der'));

    const before = (await scrape()).families;
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${mesh.pkiUrl}/ocsp`, { method: 'POST', body: request, headers: { 'content-type': 'application/ocsp-request' } });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    const after = (await scrape()).families;
    const grew = (name: string) => sampleValue(after, name)! - sampleValue(before, name)!;
    expect(grew('c2pamesh_ocsp_requests_total')).toBe(3);
    // The first is signed (a miss), the other two come from the pre-signed response.
    expect(grew('c2pamesh_ocsp_cache_hits_total')).toBe(2);
    expect(sampleValue(after, 'c2pamesh_ocsp_cache_entries')).toBeGreaterThanOrEqual(1);
  });

  it('serves every metric the Grafana dashboard queries', async () => {
    const dashboard = JSON.parse(await readFile(path.join(REPO_ROOT, 'deploy/grafana/c2pa-mesh.json'), 'utf8'));
    const queries: string[] = [
      ...dashboard.panels.flatMap((panel: any) => (panel.targets ?? []).map((target: any) => target.expr)),
      ...dashboard.templating.list.flatMap((variable: any) => (variable.definition ? [variable.definition] : [])),
    ];
    const names = new Set(queries.flatMap((query) => query.match(/\b(c2pamesh|process|nodejs)_[a-z0-9_]+/g) ?? []));
    expect(names.size).toBeGreaterThan(20);
    const { families } = await scrape();
    const missing = [...names].filter((name) => !families.has(name) && !families.has(name.replace(/_bucket$/, '')));
    expect(missing).toEqual([]);
  });

  it('counts rate-limit refusals', async () => {
    const registry = meshClient(RegistryService, mesh.url, admin());
    const { projectId } = await registry.createProject({ name: `metrics limited ${path.basename(scratch)}` });
    const { key } = await registry.createApiKey({ projectId, name: 'one a minute', scopes: ['sign'], requestsPerMinute: 1 });
    const signing = meshClient(SigningService, mesh.url, { caPath: mesh.files.meshCa, apiKey: key });
    expect(await codeOf(signing.listSigners({}))).toBe('ok');
    expect(await codeOf(signing.listSigners({}))).toBe(Code.ResourceExhausted);
    const { families } = await scrape();
    expect(sampleValue(families, 'c2pamesh_rate_limit_refusals_total', { service: SIGNING, method: 'ListSigners', caller: 'identified' })).toBe(1);
    expect(sampleValue(families, 'c2pamesh_rpc_requests_total', { service: SIGNING, method: 'ListSigners', code: 'resource_exhausted' })).toBe(1);
  });
});
