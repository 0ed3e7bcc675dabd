import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './testing.js';
import { newId } from './ids.js';
import { findCertificateById, insertCertificate } from './repositories/certificates.js';
import { getSetting, nextCounter, putSetting } from './repositories/settings.js';

// Runs on PGlite, or on PostgreSQL when DATABASE_URL is set: the same tests on both.
describe(`storage on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('round-trips a certificate row with bytes, json, timestamps and bigint counters as numbers', async () => {
    const id = newId('crt');
    const der = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]);
    const notAfter = new Date('2030-01-01T00:00:00.000Z');
    await insertCertificate(t.db, {
      id,
      serial_number: '0a1b',
      issuer_id: null,
      profile: 'ROOT_CA',
      subject: 'CN=Test',
      common_name: 'Test',
      organization: '',
      key_algorithm: 'ES256',
      project_id: null,
      status: 'ACTIVE',
      certificate_der: der,
      chain_pem: '',
      spki_sha256: 'ab',
      san_uris: JSON.stringify(['spiffe://c2pa-mesh/x']),
      key_held_by_ca: false,
      encrypted_private_key: null,
      not_before: new Date(),
      not_after: notAfter,
    });
    const row = await findCertificateById(t.db, id);
    expect(row).toBeDefined();
    expect(Buffer.from(row!.certificate_der)).toEqual(Buffer.from(der));
    expect(row!.san_uris).toEqual(['spiffe://c2pa-mesh/x']);
    expect(row!.not_after).toBeInstanceOf(Date);
    expect(row!.not_after.toISOString()).toBe(notAfter.toISOString());
    expect(row!.is_default_signer).toBe(false);

    const count = await t.db.selectFrom('certificates').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(count.n).toBe(1);
  });

  it('keeps settings and atomic counters', async () => {
    expect(await getSetting(t.db, 'missing')).toBeUndefined();
    await putSetting(t.db, 'k', 'v1');
    await putSetting(t.db, 'k', 'v2');
    expect(await getSetting(t.db, 'k')).toBe('v2');
    const values = await Promise.all([1, 2, 3, 4, 5].map(() => nextCounter(t.db, 'crl_number')));
    expect(values.map(Number).sort()).toEqual([1, 2, 3, 4, 5]);
  });
});
