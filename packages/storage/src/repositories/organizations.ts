import type { Kysely, Transaction } from 'kysely';
import type { MeshDatabase, OrganizationInvitationRow, OrganizationMemberRow, OrganizationRow } from '../schema.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

export async function insertOrganization(db: Db, org: { id: string; name: string; ownerUserId: string }): Promise<OrganizationRow> {
  const row = await db.insertInto('organizations').values({ id: org.id, name: org.name }).returningAll().executeTakeFirstOrThrow();
  await db.insertInto('organization_members').values({ organization_id: org.id, user_id: org.ownerUserId, role: 'owner' }).execute();
  return row;
}

export async function findOrganization(db: Db, id: string): Promise<OrganizationRow | undefined> {
  return db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findMembership(db: Db, organizationId: string, userId: string): Promise<OrganizationMemberRow | undefined> {
  return db.selectFrom('organization_members').selectAll().where('organization_id', '=', organizationId).where('user_id', '=', userId).executeTakeFirst();
}

/** The user's role on a project through the organization that owns it; undefined when none. */
export async function findProjectRole(db: Db, projectId: string, userId: string): Promise<{ organizationId: string; role: string } | undefined> {
  const row = await db
    .selectFrom('organization_projects')
    .innerJoin('organization_members', 'organization_members.organization_id', 'organization_projects.organization_id')
    .select(['organization_projects.organization_id as organizationId', 'organization_members.role as role'])
    .where('organization_projects.project_id', '=', projectId)
    .where('organization_members.user_id', '=', userId)
    .executeTakeFirst();
  return row;
}

export async function listUserOrganizations(db: Db, userId: string): Promise<Array<OrganizationRow & { role: string }>> {
  return db
    .selectFrom('organizations')
    .innerJoin('organization_members', 'organization_members.organization_id', 'organizations.id')
    .selectAll('organizations')
    .select('organization_members.role as role')
    .where('organization_members.user_id', '=', userId)
    .orderBy('organizations.created_at', 'asc')
    .orderBy('organizations.id', 'asc')
    .execute();
}

export async function listOrganizationProjectIds(db: Db, organizationId: string): Promise<string[]> {
  const rows = await db.selectFrom('organization_projects').select('project_id').where('organization_id', '=', organizationId).orderBy('project_id').execute();
  return rows.map((r) => r.project_id);
}

/** The organization's projects with their names, by project id. */
export async function listOrganizationProjects(db: Db, organizationId: string): Promise<Array<{ id: string; name: string }>> {
  return db
    .selectFrom('organization_projects')
    .innerJoin('projects', 'projects.id', 'organization_projects.project_id')
    .select(['projects.id', 'projects.name'])
    .where('organization_projects.organization_id', '=', organizationId)
    .orderBy('projects.id')
    .execute();
}

export async function addOrganizationProject(db: Db, organizationId: string, projectId: string): Promise<void> {
  await db.insertInto('organization_projects').values({ organization_id: organizationId, project_id: projectId }).execute();
}

export async function listOrganizationMembers(db: Db, organizationId: string) {
  return db
    .selectFrom('organization_members')
    .innerJoin('users', 'users.id', 'organization_members.user_id')
    .select(['users.id as user_id', 'users.email', 'users.display_name', 'organization_members.role', 'organization_members.created_at'])
    .where('organization_members.organization_id', '=', organizationId)
    .orderBy('organization_members.created_at', 'asc')
    .orderBy('users.id', 'asc')
    .execute();
}

export async function countOrganizationOwners(db: Db, organizationId: string): Promise<number> {
  const row = await db.selectFrom('organization_members').select((eb) => eb.fn.countAll<string>().as('n')).where('organization_id', '=', organizationId).where('role', '=', 'owner').executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Adds a member, or sets the role of one already there. */
export async function upsertOrganizationMember(db: Db, organizationId: string, userId: string, role: string): Promise<OrganizationMemberRow> {
  return db
    .insertInto('organization_members')
    .values({ organization_id: organizationId, user_id: userId, role })
    .onConflict((oc) => oc.columns(['organization_id', 'user_id']).doUpdateSet({ role }))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteOrganizationMember(db: Db, organizationId: string, userId: string): Promise<void> {
  await db.deleteFrom('organization_members').where('organization_id', '=', organizationId).where('user_id', '=', userId).execute();
}

export async function insertOrganizationInvitation(
  db: Db,
  invitation: { id: string; organizationId: string; email: string; role: string; tokenHash: string; invitedBy: string; expiresAt: Date },
): Promise<OrganizationInvitationRow> {
  return db
    .insertInto('organization_invitations')
    .values({
      id: invitation.id,
      organization_id: invitation.organizationId,
      email: invitation.email,
      role: invitation.role,
      token_hash: invitation.tokenHash,
      invited_by: invitation.invitedBy,
      expires_at: invitation.expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findOrganizationInvitationByHash(db: Db, tokenHash: string): Promise<OrganizationInvitationRow | undefined> {
  return db.selectFrom('organization_invitations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Marks an invitation accepted; false when it was already. */
export async function acceptOrganizationInvitation(db: Db, id: string): Promise<boolean> {
  const result = await db.updateTable('organization_invitations').set({ accepted_at: new Date() }).where('id', '=', id).where('accepted_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Invitations of an organization neither accepted nor expired, newest first. */
export async function listPendingOrganizationInvitations(db: Db, organizationId: string, now = new Date()): Promise<OrganizationInvitationRow[]> {
  return db
    .selectFrom('organization_invitations')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('accepted_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

/** Deletes an invitation of the organization not yet accepted; false when there was none. */
export async function deletePendingOrganizationInvitation(db: Db, organizationId: string, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('organization_invitations')
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .where('accepted_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}
