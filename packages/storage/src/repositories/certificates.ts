import type { Kysely, Transaction } from 'kysely';
import type { CertificateRow, MeshDatabase, NewCertificateRow } from '../schema.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

const asDate = (value: Date | string) => (value instanceof Date ? value : new Date(value));

/**
 * Inserts a certificate and returns the row as stored. The row is completed here (defaults made
 * explicit) rather than read back with RETURNING: sending the DER and sealed key back costs as
 * much as the insert itself, and a CA inserts on every issuance.
 */
export async function insertCertificate(db: Db, row: NewCertificateRow): Promise<CertificateRow> {
  const now = new Date();
  const complete = {
    ...row,
    organization: row.organization ?? '',
    chain_pem: row.chain_pem ?? '',
    san_uris: row.san_uris ?? '[]',
    key_held_by_ca: row.key_held_by_ca ?? false,
    encrypted_private_key: row.encrypted_private_key ?? null,
    is_default_signer: row.is_default_signer ?? false,
    issuer_id: row.issuer_id ?? null,
    project_id: row.project_id ?? null,
    issued_at: asDate(row.issued_at ?? now),
    activated_at: row.activated_at ? asDate(row.activated_at) : null,
    revoked_at: row.revoked_at ? asDate(row.revoked_at) : null,
    revocation_reason: row.revocation_reason ?? null,
    status_changed_at: asDate(row.status_changed_at ?? now),
  };
  await db.insertInto('certificates').values(complete).execute();
  return {
    ...complete,
    san_uris: JSON.parse(complete.san_uris) as string[],
    not_before: asDate(complete.not_before),
    not_after: asDate(complete.not_after),
  };
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

/** Every certificate with this serial number, whatever its issuer (serials are unique per issuer only). */
export async function findCertificatesBySerial(db: Db, serialNumberHex: string): Promise<CertificateRow[]> {
  return db.selectFrom('certificates').selectAll().where('serial_number', '=', serialNumberHex.toLowerCase()).orderBy('issued_at', 'asc').execute();
}

/** PENDING → ACTIVE, atomically: undefined when the certificate is not PENDING (any more). */
export async function activatePendingCertificate(db: Db, id: string, at: Date): Promise<CertificateRow | undefined> {
  return db
    .updateTable('certificates')
    .set({ status: 'ACTIVE', activated_at: at, status_changed_at: at })
    .where('id', '=', id)
    .where('status', '=', 'PENDING')
    .returningAll()
    .executeTakeFirst();
}

/** Marks a certificate REVOKED, atomically: undefined when it already was. */
export async function markCertificateRevoked(db: Db, id: string, revocation: { revokedAt: Date; reason: number }): Promise<CertificateRow | undefined> {
  return db
    .updateTable('certificates')
    .set({ status: 'REVOKED', revoked_at: revocation.revokedAt, revocation_reason: revocation.reason, status_changed_at: revocation.revokedAt })
    .where('id', '=', id)
    .where('status', '!=', 'REVOKED')
    .returningAll()
    .executeTakeFirst();
}

/** What a CRL lists for one issuer: revoked and on-hold (PENDING) certificates that have not expired. */
export async function listUnexpiredRevocations(
  db: Db,
  issuerId: string,
  now: Date,
): Promise<Array<Pick<CertificateRow, 'serial_number' | 'status' | 'revoked_at' | 'revocation_reason' | 'issued_at'>>> {
  return db
    .selectFrom('certificates')
    .select(['serial_number', 'status', 'revoked_at', 'revocation_reason', 'issued_at'])
    .where('issuer_id', '=', issuerId)
    .where('status', 'in', ['REVOKED', 'PENDING'])
    .where('not_after', '>', now)
    .orderBy('serial_number')
    .execute();
}

/** Whether a project exists (certificates are bound only to existing projects). */
export async function isKnownProject(db: Db, projectId: string): Promise<boolean> {
  const row = await db.selectFrom('projects').select('id').where('id', '=', projectId).executeTakeFirst();
  return row !== undefined;
}

/** The projects whose client bindings name any of these SAN URIs. */
export async function findBindingProjectsBySanUri(db: Db, sanUris: readonly string[]): Promise<string[]> {
  if (sanUris.length === 0) return [];
  const rows = await db.selectFrom('client_bindings').select('project_id').distinct().where('san_uri', 'in', [...sanUris]).execute();
  return rows.map((row) => row.project_id);
}

/** Binds an issued client certificate (by key fingerprint) to a project with the given scopes. */
export async function bindCertificateToProject(
  db: Db,
  binding: { id: string; projectId: string; name: string; spkiSha256: string; scopes: readonly string[] },
): Promise<void> {
  await db
    .insertInto('client_bindings')
    .values({
      id: binding.id,
      project_id: binding.projectId,
      name: binding.name,
      spki_sha256: binding.spkiSha256,
      san_uri: null,
      scopes: JSON.stringify(binding.scopes),
    })
    .execute();
}
