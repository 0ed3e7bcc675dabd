import { sql, type Kysely, type Transaction } from 'kysely';
import type { MeshDatabase, ProductCertificateDomainRow, ProductCertificateKeyRow, ProductCertificateRow } from '../schema.js';
import { afterKeyset, type KeysetPosition } from './keyset.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

export interface NewProductCertificateKey {
  kid: string;
  algorithm: string;
  publicJwk: Record<string, unknown>;
  encryptedPrivateKey: Uint8Array;
}

/** Retires the active key (if any) and makes `key` the active one, in one transaction. */
export async function rotateProductCertificateKey(db: Kysely<MeshDatabase>, key: NewProductCertificateKey): Promise<ProductCertificateKeyRow> {
  return db.transaction().execute(async (trx) => {
    const now = new Date();
    await trx.updateTable('product_certificate_keys').set({ status: 'RETIRED', retired_at: now }).where('status', '=', 'ACTIVE').execute();
    return trx
      .insertInto('product_certificate_keys')
      .values({
        kid: key.kid,
        algorithm: key.algorithm,
        public_jwk: JSON.stringify(key.publicJwk),
        encrypted_private_key: key.encryptedPrivateKey,
        status: 'ACTIVE',
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** Inserts the first key unless another instance did so first; the active key either way. */
export async function insertFirstProductCertificateKey(db: Db, key: NewProductCertificateKey): Promise<ProductCertificateKeyRow> {
  await db
    .insertInto('product_certificate_keys')
    .values({ kid: key.kid, algorithm: key.algorithm, public_jwk: JSON.stringify(key.publicJwk), encrypted_private_key: key.encryptedPrivateKey, status: 'ACTIVE' })
    .onConflict((oc) => oc.doNothing())
    .execute();
  const active = await findActiveProductCertificateKey(db);
  if (!active) throw new Error('no active product-certificate key after inserting one');
  return active;
}

export async function findActiveProductCertificateKey(db: Db): Promise<ProductCertificateKeyRow | undefined> {
  return db.selectFrom('product_certificate_keys').selectAll().where('status', '=', 'ACTIVE').executeTakeFirst();
}

export async function findProductCertificateKey(db: Db, kid: string): Promise<ProductCertificateKeyRow | undefined> {
  return db.selectFrom('product_certificate_keys').selectAll().where('kid', '=', kid).executeTakeFirst();
}

export async function listProductCertificateKeys(db: Db): Promise<ProductCertificateKeyRow[]> {
  return db.selectFrom('product_certificate_keys').selectAll().orderBy('created_at', 'desc').orderBy('kid', 'desc').execute();
}

/**
 * The keys a verifier needs: the active one, and every retired one that a certificate not yet
 * revoked still carries a proof of. Once those are re-issued (or revoked) the key leaves the set.
 */
export async function listPublishedProductCertificateKeys(db: Db): Promise<ProductCertificateKeyRow[]> {
  return db
    .selectFrom('product_certificate_keys as k')
    .selectAll('k')
    .where((eb) =>
      eb.or([
        eb('k.status', '=', 'ACTIVE'),
        eb.exists(eb.selectFrom('product_certificates as c').select(sql`1`.as('one')).whereRef('c.kid', '=', 'k.kid').where('c.status', '!=', 'REVOKED')),
      ]),
    )
    .orderBy('k.created_at', 'desc')
    .orderBy('k.kid', 'desc')
    .execute();
}

export interface NewProductCertificate {
  id: string;
  projectId: string;
  assetId: string;
  assetUrl: string | null;
  authorizedDomains: readonly string[];
  boundFields: Record<string, string>;
  validationState: string;
  validationVerifiedAt: Date;
  kid: string;
  jwt: string;
  issuedAt: Date;
}

export async function insertProductCertificate(db: Db, c: NewProductCertificate): Promise<ProductCertificateRow> {
  return db
    .insertInto('product_certificates')
    .values({
      id: c.id,
      project_id: c.projectId,
      asset_id: c.assetId,
      asset_url: c.assetUrl,
      authorized_domains: JSON.stringify(c.authorizedDomains),
      bound_fields: JSON.stringify(c.boundFields),
      status: 'ACTIVE',
      validation_state: c.validationState,
      validation_verified_at: c.validationVerifiedAt,
      kid: c.kid,
      jwt: c.jwt,
      issued_at: c.issuedAt,
      updated_at: c.issuedAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findProductCertificate(db: Db, id: string): Promise<ProductCertificateRow | undefined> {
  return db.selectFrom('product_certificates').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface ProductCertificateFilter {
  projectId: string;
  assetId?: string;
  after?: KeysetPosition;
  limit: number;
}

/** Newest first. */
export async function listProductCertificates(db: Db, filter: ProductCertificateFilter): Promise<ProductCertificateRow[]> {
  let query = db.selectFrom('product_certificates').selectAll().where('project_id', '=', filter.projectId);
  if (filter.assetId !== undefined) query = query.where('asset_id', '=', filter.assetId);
  if (filter.after) query = query.where(afterKeyset('product_certificates', 'issued_at', 'desc', filter.after));
  return query.orderBy('issued_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}

export interface ProductCertificateChanges {
  authorizedDomains?: readonly string[];
  boundFields?: Record<string, string>;
  status?: 'ACTIVE' | 'PAUSED' | 'REVOKED';
  kid?: string;
  jwt?: string;
  updatedAt: Date;
}

/**
 * Changes a certificate that is not revoked, when its status is one of `fromStatuses`; undefined
 * when it is not (revoked meanwhile, or already in another state).
 */
export async function updateProductCertificate(
  db: Db,
  id: string,
  fromStatuses: readonly string[],
  changes: ProductCertificateChanges,
): Promise<ProductCertificateRow | undefined> {
  return db
    .updateTable('product_certificates')
    .set({
      ...(changes.authorizedDomains !== undefined ? { authorized_domains: JSON.stringify(changes.authorizedDomains) } : {}),
      ...(changes.boundFields !== undefined ? { bound_fields: JSON.stringify(changes.boundFields) } : {}),
      ...(changes.status !== undefined ? { status: changes.status } : {}),
      ...(changes.status === 'REVOKED' ? { revoked_at: changes.updatedAt } : {}),
      ...(changes.kid !== undefined ? { kid: changes.kid } : {}),
      ...(changes.jwt !== undefined ? { jwt: changes.jwt } : {}),
      updated_at: changes.updatedAt,
    })
    .where('id', '=', id)
    .where('status', 'in', [...fromStatuses])
    .returningAll()
    .executeTakeFirst();
}

/** The domain's challenge for a project, made with `token` unless one exists already. */
export async function upsertProductCertificateDomain(db: Db, projectId: string, domain: string, token: string): Promise<ProductCertificateDomainRow> {
  await db.insertInto('product_certificate_domains').values({ project_id: projectId, domain, token }).onConflict((oc) => oc.columns(['project_id', 'domain']).doNothing()).execute();
  return db.selectFrom('product_certificate_domains').selectAll().where('project_id', '=', projectId).where('domain', '=', domain).executeTakeFirstOrThrow();
}

export async function markProductCertificateDomainVerified(db: Db, projectId: string, domain: string, method: string, at: Date): Promise<ProductCertificateDomainRow | undefined> {
  return db
    .updateTable('product_certificate_domains')
    .set({ method, verified_at: at })
    .where('project_id', '=', projectId)
    .where('domain', '=', domain)
    .returningAll()
    .executeTakeFirst();
}

/** Which of `domains` the project has verified. */
export async function verifiedProductCertificateDomains(db: Db, projectId: string, domains: readonly string[]): Promise<Set<string>> {
  if (domains.length === 0) return new Set();
  const rows = await db
    .selectFrom('product_certificate_domains')
    .select('domain')
    .where('project_id', '=', projectId)
    .where('domain', 'in', [...domains])
    .where('verified_at', 'is not', null)
    .execute();
  return new Set(rows.map((r) => r.domain));
}
