import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { MeshClients } from '@c2pa-mesh/clients';
import { loadConfig } from '@c2pa-mesh/config';
import { bootstrapPki, type MeshPki } from '@c2pa-mesh/mesh';
import { encodeOcspRequest, ocspCertIdFor } from '@c2pa-mesh/pki';
import { findCertificateById, markCertificateRevoked, openDatabase, type Database } from '@c2pa-mesh/storage';
import { createTestDatabase, type TestDatabase } from '@c2pa-mesh/storage/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, removeDir } from '../../../test/support/cleanup.js';
import { createCertificateAuthority, type CertificateAuthority } from './certificate-authority.js';
import { issue } from './issuance.js';
import { readOcspResponse } from './testing.js';

const logger = pino({ level: 'silent' });

/**
 * Two CA instances on one PostgreSQL database, each with its own connection pool, as two
 * processes would be: a revocation through one must reach the other's pre-signed OCSP cache at
 * once. Runs when DATABASE_URL names a PostgreSQL server (PGlite has one process only).
 */
describe.skipIf(!process.env.DATABASE_URL)('status changes across instances sharing PostgreSQL', () => {
  let database: TestDatabase;
  let dataDir: string;
  let pki: MeshPki;
  const instances: Array<{ ca: CertificateAuthority; db: Database }> = [];

  function instance(db: Database): CertificateAuthority {
    return createCertificateAuthority({
      db,
      logger,
      // The CA calls no other service; its clients are never used here.
      clients: {} as MeshClients,
      meshCa: pki.meshCa,
      c2paRoot: pki.c2paRoot,
      c2paIntermediate: pki.c2paIntermediate,
      ocspResponder: pki.ocspResponder,
      timeStampAuthority: pki.timeStampAuthority,
      keyEncryptionKey: pki.keyEncryptionKey,
      pkiPublicUrl: 'http://127.0.0.1:8080',
      databaseUrl: database.url,
    });
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-ca-events-'));
    pki = await bootstrapPki({ config: loadConfig({ MESH_DATA_DIR: dataDir }), db: database.db, logger });
    for (let i = 0; i < 2; i++) {
      const db = await openDatabase({ databaseUrl: database.url, poolSize: 2 });
      instances.push({ ca: instance(db), db });
    }
  });
  afterAll(() =>
    cleanUp({
      ...Object.fromEntries(
        instances.map(({ ca, db }, i) => [
          `instance ${i}`,
          async () => {
            try {
              await ca.close();
            } finally {
              await db.destroy();
            }
          },
        ]),
      ),
      database: () => database?.close(),
      dataDir: () => removeDir(dataDir),
    }),
  );

  async function statusSeenBy(ca: CertificateAuthority, request: Uint8Array, expected: 'good' | 'revoked'): Promise<number> {
    const started = Date.now();
    for (;;) {
      const seen = readOcspResponse((await ca.ocsp.respond(request)).der).certStatus;
      if (seen === expected) return Date.now() - started;
      if (Date.now() - started > 5000) throw new Error(`still ${seen} after 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async function newSigner(ca: CertificateAuthority, commonName: string) {
    const { row } = await issue(ca, {
      profile: 'C2PA_SIGNING',
      subject: { commonName },
      san: {},
      keyAlgorithm: 'ES256',
      validityDays: 30,
      projectId: null,
      requireActivation: false,
      bindingScopes: [],
    });
    return { row, request: encodeOcspRequest([ocspCertIdFor(row.certificate_der, pki.c2paIntermediate.der)]) };
  }

  async function waitUntilCaching(ca: CertificateAuthority, request: Uint8Array): Promise<void> {
    const started = Date.now();
    for (;;) {
      const first = await ca.ocsp.respond(request);
      const second = await ca.ocsp.respond(request);
      if (Buffer.from(first.der).equals(Buffer.from(second.der))) return;
      if (Date.now() - started > 10_000) throw new Error('the instance never cached a response (status channel down?)');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('a revocation on one instance evicts the other instance\'s pre-signed response', async () => {
    const [a, b] = instances.map((i) => i.ca);
    const { row, request } = await newSigner(a, 'Shared signer');
    await waitUntilCaching(b, request);
    expect(readOcspResponse((await b.ocsp.respond(request)).der).certStatus).toBe('good');
    // CheckStatus's record cache on the other instance holds the certificate too.
    expect((await b.statusRows.byId(row.id, () => findCertificateById(b.deps.db, row.id)))?.status).toBe('ACTIVE');
    expect(b.statusRows.size).toBe(1);

    await a.changeStatus((trx) => markCertificateRevoked(trx, row.id, { revokedAt: new Date(), reason: 1 }).then((changed) => changed!));
    const delay = await statusSeenBy(b, request, 'revoked');
    expect(delay).toBeLessThan(2000);
    expect(b.statusRows.size).toBe(0);
    expect((await b.statusRows.byId(row.id, () => findCertificateById(b.deps.db, row.id)))?.status).toBe('REVOKED');
  });

  it('after losing the channel, an instance forgets its cache and hears changes again once reconnected', async () => {
    const [a, b] = instances.map((i) => i.ca);
    const { row, request } = await newSigner(a, 'Reconnecting signer');
    await waitUntilCaching(b, request);

    // Cut every LISTEN connection of this database, as a server restart or a network failure would.
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query like 'LISTEN %'`.execute(database.db);
    await a.changeStatus((trx) => markCertificateRevoked(trx, row.id, { revokedAt: new Date(), reason: 4 }).then((changed) => changed!));
    await statusSeenBy(b, request, 'revoked');

    const next = await newSigner(a, 'After reconnect');
    await waitUntilCaching(b, next.request);
    await a.changeStatus((trx) => markCertificateRevoked(trx, next.row.id, { revokedAt: new Date(), reason: 5 }).then((changed) => changed!));
    expect(await statusSeenBy(b, next.request, 'revoked')).toBeLessThan(2000);
  });
});
