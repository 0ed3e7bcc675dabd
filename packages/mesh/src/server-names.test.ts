import { parseCertificate } from '@c2pa-mesh/pki';
import { describe, expect, it } from 'vitest';
import { createTestMesh } from './testing.js';

// The registry alone: no engine to start; the other services are named by URL only.
const REGISTRY_ONLY = {
  MESH_SERVICES: 'registry',
  MESH_SIGNING_URL: 'https://c2pa-mesh-signing:8443',
  MESH_VERIFICATION_URL: 'https://c2pa-mesh-verification:8443',
  MESH_CERTIFICATE_AUTHORITY_URL: 'https://c2pa-mesh-certificate-authority:8443',
};

describe('the server certificate', () => {
  it('carries MESH_SERVER_NAMES beside localhost, so that callers may reach it by a Service name', async () => {
    const mesh = await createTestMesh({ ...REGISTRY_ONLY, MESH_HOST: '0.0.0.0', MESH_SERVER_NAMES: 'c2pa-mesh-registry,c2pa-mesh-registry.mesh.svc,10.0.0.5' });
    try {
      const info = parseCertificate(mesh.pki.server.pem);
      expect(info.sanDns).toEqual(expect.arrayContaining(['localhost', 'c2pa-mesh-registry', 'c2pa-mesh-registry.mesh.svc']));
      expect(info.sanIps).toEqual(expect.arrayContaining(['127.0.0.1', '10.0.0.5']));
      expect(info.sanDns).not.toContain('0.0.0.0');
    } finally {
      await mesh.close();
    }
  });
});
