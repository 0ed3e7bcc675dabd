import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.js';

describe('loadConfig', () => {
  it('has the contract defaults', () => {
    const config = loadConfig({});
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(8443);
    expect(config.pkiHttpPort).toBe(8080);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.services).toEqual(['signing', 'verification', 'certificate-authority', 'registry']);
    expect(config.dataDir.endsWith('.data')).toBe(true);
    expect(config.pkiPublicUrl).toBe('http://127.0.0.1:8080');
  });

  it('names the bad variable', () => {
    expect(() => loadConfig({ MESH_PORT: 'eighty' })).toThrow(/MESH_PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ MESH_SERVICES: 'signing,printing' })).toThrow(/MESH_SERVICES.*printing/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(ConfigError);
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
});
