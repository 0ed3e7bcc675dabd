import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RegistryService, SigningService } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFourProcessMesh, type FourProcessMesh } from '../support/four-processes.js';
import { meshClient, type ClientCredentials } from '../support/mesh-clients.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { FIXTURES } from '../support/start-mesh.js';

const SERVER = 2;
const CLIENT = 3;
const TRAINED = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
const manifest = JSON.stringify({ title: 'traced', assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED }] } }] });
const CA = 'c2pamesh.certificateauthority.v1.CertificateAuthorityService';
const REGISTRY = 'c2pamesh.registry.v1.RegistryService';

describe('traces: one Sign across four processes, exported by OTLP to a receiver', () => {
  let receiver: OtlpReceiver;
  let mesh: FourProcessMesh | undefined;
  // The caller's own span, sent as W3C traceparent: the mesh continues the caller's trace.
  const traceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');
  const httpCallerSpanId = randomBytes(8).toString('hex');
  let signed: { assetId: string };
  let trace: ReceivedSpan[];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    mesh = await startFourProcessMesh({
      timeoutMs: 180_000,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        // Nothing is exported before shutdown: what arrives was flushed on SIGTERM.
        OTEL_BSP_SCHEDULE_DELAY: '600000',
      },
    });
    const { registry, signing } = mesh.processes;
    const admin: ClientCredentials = { caPath: registry.files.meshCa, certPath: registry.files.adminCert, keyPath: registry.files.adminKey };
    const { projectId } = await meshClient(RegistryService, registry.url, admin).createProject({ name: 'traced' });
    signed = await meshClient(SigningService, signing.url, admin, 'grpc').sign(
      { asset: new Uint8Array(readFileSync(path.join(FIXTURES, 'no_manifest.jpg'))), format: 'image/jpeg', manifestJson: manifest, projectId },
      { headers: { traceparent: `00-${traceId}-${callerSpanId}-01` } },
    );
    // A plain HTTP request to the relying-party listener continues the caller's trace as well.
    const pki = await fetch(`${mesh.processes['certificate-authority'].pkiUrl}/healthz`, { headers: { traceparent: `00-${traceId}-${httpCallerSpanId}-01` } });
    expect(pki.status).toBe(200);
    expect(receiver.spans).toEqual([]);
    await mesh.stop();
    mesh = undefined;
    trace = receiver.spans.filter((s) => s.traceId === traceId);
  }, 600_000);

  afterAll(async () => {
    await mesh?.stop();
    await receiver?.close();
  });

  const one = (spans: ReceivedSpan[], description: string) => {
    expect(spans, description).toHaveLength(1);
    return spans[0];
  };
  const byId = (id: string) => trace.find((s) => s.spanId === id);
  /** True when `span` lies below `ancestor` in the trace. */
  const descends = (span: ReceivedSpan, ancestor: ReceivedSpan): boolean => {
    for (let parent = byId(span.parentSpanId); parent; parent = byId(parent.parentSpanId)) if (parent.spanId === ancestor.spanId) return true;
    return false;
  };
  const signServer = () => one(trace.filter((s) => s.kind === SERVER && s.attributes['rpc.method'] === 'Sign'), 'the Sign server span');

  it('every process flushed its spans on SIGTERM as OTLP/JSON, and the Sign is one trace continuing the caller', () => {
    expect(receiver.refused).toEqual([]);
    expect(new Set(receiver.spans.map((s) => s.serviceName))).toEqual(
      new Set(['c2pa-mesh-signing', 'c2pa-mesh-certificate-authority', 'c2pa-mesh-registry', 'c2pa-mesh-verification']),
    );
    const sign = signServer();
    expect(sign).toMatchObject({ serviceName: 'c2pa-mesh-signing', parentSpanId: callerSpanId, name: 'c2pamesh.signing.v1.SigningService/Sign' });
    expect(sign.attributes).toMatchObject({ 'rpc.system': 'connect_rpc', 'rpc.service': 'c2pamesh.signing.v1.SigningService', 'c2pamesh.code': 'ok', 'rpc.grpc.status_code': 0 });
    expect(sign.attributes['c2pamesh.request_id']).toMatch(/^req_/);
    // The whole trace hangs below the caller's span; nothing in it is orphaned.
    const rest = trace.filter((s) => s !== sign && s.parentSpanId !== httpCallerSpanId);
    for (const span of rest) expect(descends(span, sign), `${span.serviceName} ${span.name}`).toBe(true);
    // The Sign's work happened in this trace only: no other trace has a Sign or a SignData.
    const elsewhere = receiver.spans.filter((s) => s.traceId !== traceId && ['Sign', 'SignData', 'Timestamp', 'RegisterAsset'].includes(String(s.attributes['rpc.method'])));
    expect(elsewhere.map((s) => `${s.serviceName} ${s.name}`)).toEqual([]);
  });

  it.each([
    [CA, 'SignData', 'c2pa-mesh-certificate-authority', 'pki sign-data'],
    [CA, 'Timestamp', 'c2pa-mesh-certificate-authority', 'pki time-stamp'],
    [CA, 'CheckStatus', 'c2pa-mesh-certificate-authority', 'pki ocsp-response'],
    [REGISTRY, 'RegisterAsset', 'c2pa-mesh-registry', undefined],
  ])('the signing process calls %s/%s over mTLS: its client span is the parent of the server span in %s', (service, method, process, pkiSpan) => {
    const sign = signServer();
    const clients = trace.filter((s) => s.kind === CLIENT && s.attributes['rpc.method'] === method && s.attributes['rpc.service'] === service);
    expect(clients.length).toBeGreaterThan(0);
    for (const client of clients) {
      expect(client).toMatchObject({ serviceName: 'c2pa-mesh-signing', attributes: expect.objectContaining({ 'c2pamesh.transport': 'remote' }) });
      expect(descends(client, sign)).toBe(true);
      const server = one(trace.filter((s) => s.parentSpanId === client.spanId), `the ${method} server span`);
      expect(server).toMatchObject({ serviceName: process, kind: SERVER, name: `${service}/${method}`, statusCode: 0 });
      expect(server.attributes).toMatchObject({ 'c2pamesh.code': 'ok' });
      // What the other process did for the call is below its server span: the database, the PKI.
      const below = trace.filter((s) => s.serviceName === process && descends(s, server));
      expect(below.filter((s) => s.attributes['db.system.name'] === 'postgresql').length, `database spans below ${method}`).toBeGreaterThan(0);
      if (pkiSpan) one(below.filter((s) => s.name === pkiSpan), pkiSpan);
    }
  });

  it('a request to the relying-party listener is a server span continuing its caller', () => {
    const span = one(trace.filter((s) => s.parentSpanId === httpCallerSpanId), 'the /healthz span');
    expect(span).toMatchObject({ serviceName: 'c2pa-mesh-certificate-authority', kind: SERVER, name: 'GET /healthz' });
    expect(span.attributes).toMatchObject({ 'c2pamesh.listener': 'pki', 'http.response.status_code': 200 });
  });

  it('the engine job and the queries of the signing process are spans of the Sign', () => {
    const sign = signServer();
    const engine = one(trace.filter((s) => s.name === 'c2pa.engine sign'), 'the engine job');
    expect(engine).toMatchObject({ serviceName: 'c2pa-mesh-signing', parentSpanId: sign.spanId, statusCode: 0 });
    expect(engine.attributes).toMatchObject({ 'c2pamesh.format': 'image/jpeg' });
    expect(engine.attributes['c2pamesh.asset_bytes']).toBeGreaterThan(0);
    // The claim is signed while the job runs: SignData is called from inside it.
    const signData = one(trace.filter((s) => s.kind === CLIENT && s.attributes['rpc.method'] === 'SignData'), 'the SignData call');
    expect(descends(signData, engine)).toBe(true);
    // The registration is one statement (WITH … INSERT INTO assets …) in the registry's process.
    const registered = trace.filter((s) => s.serviceName === 'c2pa-mesh-registry' && typeof s.attributes['db.query.text'] === 'string');
    expect(registered.map((s) => s.attributes['db.query.text']).join('\n')).toMatch(/insert into "?assets"? \(/);
    expect(signed.assetId).toBeTruthy();
  });
});
