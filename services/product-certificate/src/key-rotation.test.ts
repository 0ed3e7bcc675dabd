import { createTestDatabase, type TestDatabase } from '@c2pa-mesh/storage/testing';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProofKeyRotation } from './key-rotation.js';
import { createProofKeyRing } from './proof-keys.js';
import { productCertificateSettingsFromEnv } from './settings.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

describe('scheduled proof key rotation', () => {
  it('replaces the active key once it is as old as the schedule says, not before', async () => {
    const keys = createProofKeyRing({ db: database.db, keyEncryptionKey: randomBytes(32) });
    const first = await keys.activeKey();
    const rotation = startProofKeyRotation({ keys, everyDays: 30, algorithm: 'ES256', logger: pino({ level: 'silent' }) });
    try {
      expect(await rotation.runOnce(new Date(first.created_at.getTime() + 29 * 86_400_000))).toBe(false);
      expect((await keys.activeKey()).kid).toBe(first.kid);
      expect(await rotation.runOnce(new Date(first.created_at.getTime() + 30 * 86_400_000))).toBe(true);
      const second = await keys.activeKey();
      expect(second.kid).not.toBe(first.kid);
      // No live certificate uses the retired key: it leaves the JWKS at once.
      expect((await keys.jwks()).keys.map((k) => k.kid)).toEqual([second.kid]);
    } finally {
      await rotation.close();
    }
  });

  it('reads its schedule from the environment and refuses nonsense', () => {
    expect(productCertificateSettingsFromEnv({})).toMatchObject({ algorithm: 'ES256', keyRotationDays: 90, domainEnforcement: false, dnsServers: [] });
    expect(productCertificateSettingsFromEnv({ MESH_MC4P_PROOF_ALGORITHM: 'rs256', MESH_MC4P_KEY_ROTATION_DAYS: '0', MESH_MC4P_DOMAIN_ENFORCEMENT: 'on', MESH_MC4P_DNS_SERVERS: '127.0.0.1:5353' })).toEqual({
      algorithm: 'RS256',
      keyRotationDays: 0,
      domainEnforcement: true,
      dnsServers: ['127.0.0.1:5353'],
    });
    expect(() => productCertificateSettingsFromEnv({ MESH_MC4P_PROOF_ALGORITHM: 'HS256' })).toThrow(/MESH_MC4P_PROOF_ALGORITHM/);
    expect(() => productCertificateSettingsFromEnv({ MESH_MC4P_KEY_ROTATION_DAYS: '-1' })).toThrow(/MESH_MC4P_KEY_ROTATION_DAYS/);
    expect(() => productCertificateSettingsFromEnv({ MESH_MC4P_DOMAIN_ENFORCEMENT: 'maybe' })).toThrow(/MESH_MC4P_DOMAIN_ENFORCEMENT/);
    expect(() => productCertificateSettingsFromEnv({ MESH_MC4P_DNS_SERVERS: 'dns.example' })).toThrow(/MESH_MC4P_DNS_SERVERS/);
  });

  it('seals each key to its kid: a sealed key copied onto another key row does not open', async () => {
    const kek = randomBytes(32);
    const keys = createProofKeyRing({ db: database.db, keyEncryptionKey: kek });
    const a = await keys.activeKey();
    const b = await keys.rotate('ES256');
    await database.db.updateTable('product_certificate_keys').set({ encrypted_private_key: a.encrypted_private_key }).where('kid', '=', b.kid).execute();
    await expect(createProofKeyRing({ db: database.db, keyEncryptionKey: kek }).sign({ sub: 'x' })).rejects.toThrow(/cannot open the stored private key/);
  });
});
