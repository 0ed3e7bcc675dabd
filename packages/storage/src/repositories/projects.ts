import { sql, type Kysely, type Transaction } from 'kysely';
import type { MeshDatabase, ProjectRow } from '../schema.js';
import { afterKeyset, type KeysetPosition } from './keyset.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

export interface NewProject {
  id: string;
  name: string;
  description: string;
  defaultSignerId: string | null;
}

export async function insertProject(db: Db, project: NewProject): Promise<ProjectRow> {
  const now = new Date();
  return db
    .insertInto('projects')
    .values({ id: project.id, name: project.name, description: project.description, default_signer_id: project.defaultSignerId, created_at: now, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findProjectById(db: Db, id: string): Promise<ProjectRow | undefined> {
  return db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Names are unique without regard to case. */
export async function findProjectByName(db: Db, name: string): Promise<ProjectRow | undefined> {
  return db.selectFrom('projects').selectAll().where(sql`lower(name)`, '=', name.toLowerCase()).executeTakeFirst();
}

export interface ProjectFilter {
  /** Only this project (for callers tied to one). */
  id?: string;
  after?: KeysetPosition;
  limit: number;
}

/** Oldest first. */
export async function listProjects(db: Db, filter: ProjectFilter): Promise<ProjectRow[]> {
  let query = db.selectFrom('projects').selectAll();
  if (filter.id !== undefined) query = query.where('id', '=', filter.id);
  if (filter.after) query = query.where(afterKeyset('projects', 'created_at', 'asc', filter.after));
  return query.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(filter.limit).execute();
}

export interface ProjectChanges {
  name?: string;
  description?: string;
  defaultSignerId?: string | null;
}

export async function updateProject(db: Db, id: string, changes: ProjectChanges): Promise<ProjectRow | undefined> {
  return db
    .updateTable('projects')
    .set({
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.defaultSignerId !== undefined ? { default_signer_id: changes.defaultSignerId } : {}),
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}
