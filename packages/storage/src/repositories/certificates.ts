import type { Kysely, Transaction } from 'kysely';
import type { CertificateRow, MeshDatabase, NewCertificateRow } from '../schema.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

export async function insertCertificate(db: Db, row: NewCertificateRow): Promise<CertificateRow> {
  return db.insertInto('certificates').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findCertificateById(db: Db, id: string): Promise<CertificateRow | undefined> {
  return db.selectFrom('certificates').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findCertificateBySerial(db: Db, issuerId: string, serialNumberHex: string): Promise<CertificateRow | undefined> {
  return db
    .selectFrom('certificates')
    .selectAll()
    .where('issuer_id', '=', issuerId)
    .where('serial_number', '=', serialNumberHex.toLowerCase())
    .executeTakeFirst();
}

export async function findDefaultSigner(db: Db): Promise<CertificateRow | undefined> {
  return db.selectFrom('certificates').selectAll().where('is_default_signer', '=', true).executeTakeFirst();
}
