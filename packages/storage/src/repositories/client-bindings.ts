import type { Kysely, Transaction } from 'kysely';
import type { ClientBindingRow, MeshDatabase } from '../schema.js';
import { afterKeyset, type KeysetPosition } from './keyset.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

export interface NewClientBinding {
  id: string;
  projectId: string;
  name: string;
  spkiSha256: string | null;
  sanUri: string | null;
  scopes: readonly string[];
}

export async function insertClientBinding(db: Db, binding: NewClientBinding): Promise<ClientBindingRow> {
  return db
    .insertInto('client_bindings')
    .values({
      id: binding.id,
      project_id: binding.projectId,
      name: binding.name,
      spki_sha256: binding.spkiSha256,
      san_uri: binding.sanUri,
      scopes: JSON.stringify(binding.scopes),
      created_at: new Date(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findClientBindingById(db: Db, id: string): Promise<ClientBindingRow | undefined> {
  return db.selectFrom('client_bindings').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The oldest binding that matches a client certificate by key fingerprint or URI SAN. */
export async function findClientBindingForCertificate(db: Db, spkiSha256: string, sanUris: readonly string[]): Promise<ClientBindingRow | undefined> {
  return db
    .selectFrom('client_bindings')
    .selectAll()
    .where((eb) => (sanUris.length > 0 ? eb.or([eb('spki_sha256', '=', spkiSha256), eb('san_uri', 'in', [...sanUris])]) : eb('spki_sha256', '=', spkiSha256)))
    .orderBy('created_at', 'asc')
    .orderBy('id', 'asc')
    .executeTakeFirst();
}

/** Newest first. */
export async function listClientBindings(db: Db, filter: { projectId: string; after?: KeysetPosition; limit: number }): Promise<ClientBindingRow[]> {
  let query = db.selectFrom('client_bindings').selectAll().where('project_id', '=', filter.projectId);
  if (filter.after) query = query.where(afterKeyset('client_bindings', 'created_at', 'desc', filter.after));
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}

export async function deleteClientBinding(db: Db, id: string): Promise<boolean> {
  const result = await db.deleteFrom('client_bindings').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
