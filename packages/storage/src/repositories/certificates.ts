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

/** The same certificate, recognised by serial number and key (used to make bootstrap idempotent). */
export async function findCertificateBySerialAndKey(db: Db, serialNumberHex: string, spkiSha256: string): Promise<CertificateRow | undefined> {
  return db
    .selectFrom('certificates')
    .selectAll()
    .where('serial_number', '=', serialNumberHex.toLowerCase())
    .where('spki_sha256', '=', spkiSha256)
    .executeTakeFirst();
}

export interface CertificateFilter {
  profile?: string;
  /** Stored status; EXPIRED is derived and filtered by not_after. */
  status?: string;
  projectId?: string;
  includeMeshWide?: boolean;
  keyHeldByCa?: boolean;
  /** Keyset position: rows strictly after (issued_at desc, id desc). */
  after?: { issuedAt: Date; id: string };
  limit: number;
}

/** Newest first, keyset-paginated. */
export async function listCertificates(db: Db, filter: CertificateFilter): Promise<CertificateRow[]> {
  let query = db.selectFrom('certificates').selectAll();
  if (filter.profile) query = query.where('profile', '=', filter.profile);
  if (filter.status === 'EXPIRED') query = query.where('status', '!=', 'REVOKED').where('not_after', '<=', new Date());
  else if (filter.status === 'REVOKED') query = query.where('status', '=', 'REVOKED');
  else if (filter.status) query = query.where('status', '=', filter.status).where('not_after', '>', new Date());
  if (filter.projectId !== undefined) {
    const projectId = filter.projectId;
    query = filter.includeMeshWide
      ? query.where((eb) => eb.or([eb('project_id', '=', projectId), eb('project_id', 'is', null)]))
      : query.where('project_id', '=', projectId);
  }
  if (filter.keyHeldByCa) query = query.where('key_held_by_ca', '=', true);
  if (filter.after) {
    const { issuedAt, id } = filter.after;
    query = query.where((eb) => eb.or([eb('issued_at', '<', issuedAt), eb.and([eb('issued_at', '=', issuedAt), eb('id', '<', id)])]));
  }
  return query.orderBy('issued_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}
