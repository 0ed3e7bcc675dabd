import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.js';

describe('loadConfig', () => {
  it('has the contract defaults', () => {
    const config = loadConfig({});
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(8443);
    expect(config.pkiHttpPort).toBe(8080);
    expect(config.metricsPort).toBe(9464);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.services).toEqual(['signing', 'verification', 'certificate-authority', 'registry']);
    expect(config.dataDir.endsWith('.data')).toBe(true);
    expect(config.pkiPublicUrl).toBe('http://127.0.0.1:8080');
    expect([config.engineThreads, config.engineMaxQueue, config.engineMaxQueuePerProject, config.engineJobTimeoutMs]).toEqual([2, 32, 16, 60_000]);
    expect(config.publicUrl).toBe('https://127.0.0.1:8443');
  });

  it('reads the engine queue bounds and job time budget', () => {
    const config = loadConfig({ MESH_ENGINE_MAX_QUEUE: '64', MESH_ENGINE_MAX_QUEUE_PER_PROJECT: '4', MESH_ENGINE_JOB_TIMEOUT_MS: '5000' });
    expect([config.engineMaxQueue, config.engineMaxQueuePerProject, config.engineJobTimeoutMs]).toEqual([64, 4, 5000]);
    expect(() => loadConfig({ MESH_ENGINE_MAX_QUEUE_PER_PROJECT: '0' })).toThrow(/MESH_ENGINE_MAX_QUEUE_PER_PROJECT/);
    expect(() => loadConfig({ MESH_ENGINE_JOB_TIMEOUT_MS: '1.5s' })).toThrow(/MESH_ENGINE_JOB_TIMEOUT_MS/);
  });

  it('takes MESH_PUBLIC_URL as an https origin, and refuses anything else', () => {
    expect(loadConfig({ MESH_PUBLIC_URL: 'https://c2pa.example.com/' }).publicUrl).toBe('https://c2pa.example.com');
    expect(loadConfig({ MESH_HOST: '0.0.0.0', MESH_PORT: '9443' }).publicUrl).toBe('https://127.0.0.1:9443');
    expect(() => loadConfig({ MESH_PUBLIC_URL: 'http://c2pa.example.com' })).toThrow(/MESH_PUBLIC_URL/);
  });

  it('names the bad variable', () => {
    expect(() => loadConfig({ MESH_PORT: 'eighty' })).toThrow(/MESH_PORT/);
    expect(() => loadConfig({ MESH_METRICS_PORT: '70000' })).toThrow(/MESH_METRICS_PORT/);
    expect(loadConfig({ MESH_METRICS_PORT: '0' }).metricsPort).toBe(0);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ MESH_SERVICES: 'signing,printing' })).toThrow(/MESH_SERVICES.*printing/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(ConfigError);
  });

  it('reads further server-certificate names, refusing what is no DNS name or address', () => {
    expect(loadConfig({}).serverNames).toEqual([]);
    expect(loadConfig({ MESH_SERVER_NAMES: 'c2pa-mesh-registry, c2pa-mesh-registry.mesh.svc,10.0.0.5' }).serverNames).toEqual(['c2pa-mesh-registry', 'c2pa-mesh-registry.mesh.svc', '10.0.0.5']);
    expect(() => loadConfig({ MESH_SERVER_NAMES: 'https://registry:8443' })).toThrow(/MESH_SERVER_NAMES/);
  });

  it('requires the URL of every service this process does not run', () => {
    expect(() => loadConfig({ MESH_SERVICES: 'signing' })).toThrow(/MESH_VERIFICATION_URL/);
    const config = loadConfig({
      MESH_SERVICES: 'signing',
      MESH_VERIFICATION_URL: 'https://127.0.0.1:9001',
      MESH_CERTIFICATE_AUTHORITY_URL: 'https://127.0.0.1:9002',
      MESH_REGISTRY_URL: 'https://127.0.0.1:9003/',
    });
    expect(config.serviceUrls.registry).toBe('https://127.0.0.1:9003');
    expect(() => loadConfig({ MESH_SERVICES: 'signing', MESH_VERIFICATION_URL: 'http://x', MESH_CERTIFICATE_AUTHORITY_URL: 'https://a', MESH_REGISTRY_URL: 'https://b' })).toThrow(/https/);
  });

  it('reads the webhook allow-list and timings, refusing entries that are no host, address or range', () => {
    const defaults = loadConfig({});
    expect(defaults).toMatchObject({ webhookAllowHosts: [], webhookRetryBaseMs: 10_000, webhookPollMs: 1000 });
    const config = loadConfig({ MESH_WEBHOOK_ALLOW_HOSTS: '127.0.0.1, hooks.internal,10.0.0.0/8,::1', MESH_WEBHOOK_RETRY_BASE_MS: '250' });
    expect(config.webhookAllowHosts).toEqual(['127.0.0.1', 'hooks.internal', '10.0.0.0/8', '::1']);
    expect(config.webhookRetryBaseMs).toBe(250);
    expect(() => loadConfig({ MESH_WEBHOOK_ALLOW_HOSTS: 'https://hooks.internal/' })).toThrow(/MESH_WEBHOOK_ALLOW_HOSTS/);
    expect(() => loadConfig({ MESH_WEBHOOK_POLL_MS: '0' })).toThrow(/MESH_WEBHOOK_POLL_MS/);
  });

  it('turns tracing on only with an OTLP endpoint, naming the process after its service', () => {
    expect(loadConfig({}).tracing).toEqual({ enabled: false, endpoint: undefined, serviceName: 'c2pa-mesh' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).tracing).toEqual({ enabled: true, endpoint: 'http://127.0.0.1:4318', serviceName: 'c2pa-mesh' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.internal/v1/traces' }).tracing.enabled).toBe(true);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }).tracing.enabled).toBe(false);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' }).tracing.enabled).toBe(false);
    const ca = loadConfig({ MESH_SERVICES: 'certificate-authority', MESH_SIGNING_URL: 'https://a', MESH_VERIFICATION_URL: 'https://b', MESH_REGISTRY_URL: 'https://c' });
    expect(ca.tracing.serviceName).toBe('c2pa-mesh-certificate-authority');
    expect(loadConfig({ OTEL_SERVICE_NAME: 'provenance' }).tracing.serviceName).toBe('provenance');
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '127.0.0.1:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });

  it('reads the identity-provider allow-list and the device login settings', () => {
    expect(loadConfig({}).accounts).toMatchObject({ oidcAllowHosts: [], deviceVerificationUrl: undefined, devicePollIntervalSeconds: 5 });
    const config = loadConfig({ MESH_OIDC_ALLOW_HOSTS: 'idp.internal, 10.0.0.0/8', MESH_DEVICE_VERIFICATION_URL: 'https://mesh.example.com/device', MESH_DEVICE_POLL_INTERVAL_SECONDS: '2' });
    expect(config.accounts).toMatchObject({ oidcAllowHosts: ['idp.internal', '10.0.0.0/8'], deviceVerificationUrl: 'https://mesh.example.com/device', devicePollIntervalSeconds: 2 });
    expect(() => loadConfig({ MESH_OIDC_ALLOW_HOSTS: 'https://idp.internal/' })).toThrow(/MESH_OIDC_ALLOW_HOSTS/);
    expect(() => loadConfig({ MESH_DEVICE_VERIFICATION_URL: 'mesh.example.com/device' })).toThrow(/MESH_DEVICE_VERIFICATION_URL/);
    expect(() => loadConfig({ MESH_DEVICE_POLL_INTERVAL_SECONDS: '0' })).toThrow(/MESH_DEVICE_POLL_INTERVAL_SECONDS/);
  });
});
