import { createHash, randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { isOrganizationRole, ORGANIZATION_ROLES, ROLE_SCOPES, type OrganizationRole } from '@c2pa-mesh/auth';
import { alreadyExists, failedPrecondition, invalidArgument, notFound, permissionDenied } from '@c2pa-mesh/errors';
import { accountV1 } from '@c2pa-mesh/proto';
import {
  acceptOrganizationInvitation,
  addOrganizationProject,
  countOrganizationOwners,
  deleteOrganizationMember,
  deletePendingOrganizationInvitation,
  findMembership,
  findOrganization,
  findOrganizationInvitationByHash,
  findProjectByName,
  insertOrganization,
  insertOrganizationInvitation,
  insertProject,
  listOrganizationMembers,
  listOrganizationProjects,
  listPendingOrganizationInvitations,
  listUserOrganizations,
  newId,
  upsertOrganizationMember,
  type Database,
  type OrganizationRow,
  type UserRow,
} from '@c2pa-mesh/storage';
import type { AccountDeps } from './deps.js';
import { currentUser, normalizeEmail } from './handlers.js';

/** Invitation tokens start with this; they are mailed, and stored as SHA-256 only. */
export const INVITATION_TOKEN_PREFIX = 'c2mi_';
const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;
const NAME_MAX_LENGTH = 100;

function organizationName(raw: string, field = 'name'): string {
  const name = raw.trim();
  if (name === '') throw invalidArgument(`${field} is required`);
  if (name.length > NAME_MAX_LENGTH) throw invalidArgument(`${field} must be at most ${NAME_MAX_LENGTH} characters long`);
  if (/[\u0000-\u001f\u007f]/.test(name)) throw invalidArgument(`${field} must not contain control characters`);
  return name;
}

function role(raw: string): OrganizationRole {
  const value = raw.trim().toLowerCase();
  if (value === '') throw invalidArgument(`role is required: one of ${ORGANIZATION_ROLES.join(', ')}`);
  if (!isOrganizationRole(value)) throw invalidArgument(`role must be one of ${ORGANIZATION_ROLES.join(', ')}, got "${raw}"`);
  return value;
}

/** The organization and the caller's role in it; not_found when the caller is not a member. */
export async function membershipOf(deps: AccountDeps, user: UserRow, organizationId: string): Promise<{ org: OrganizationRow; role: OrganizationRole }> {
  if (organizationId === '') throw invalidArgument('organization_id is required');
  const member = await findMembership(deps.db, organizationId, user.id);
  const org = member ? await findOrganization(deps.db, organizationId) : undefined;
  if (!member || !org || !isOrganizationRole(member.role)) throw notFound(`no organization ${organizationId}`);
  return { org, role: member.role };
}

export function requireManager(role: OrganizationRole, action: string): void {
  if (role !== 'owner' && role !== 'admin') throw permissionDenied(`${action} needs the role owner or admin in the organization; yours is ${role}`);
}

async function toOrganization(deps: AccountDeps, org: OrganizationRow, role: string): Promise<accountV1.Organization> {
  const projects = await listOrganizationProjects(deps.db, org.id);
  return create(accountV1.OrganizationSchema, {
    organizationId: org.id,
    name: org.name,
    role,
    projectIds: projects.map((p) => p.id),
    createdAt: org.created_at.toISOString(),
    projects: projects.map((p) => create(accountV1.OrganizationProjectSchema, { projectId: p.id, name: p.name })),
    scopes: isOrganizationRole(role) ? [...ROLE_SCOPES[role]] : [],
  });
}

export async function createOrganization(deps: AccountDeps, req: accountV1.CreateOrganizationRequest, ctx: HandlerContext) {
  const { user } = await currentUser(deps, ctx);
  const name = organizationName(req.name);
  const org = await deps.db.transaction().execute((trx) => insertOrganization(trx, { id: newId('org'), name, ownerUserId: user.id }));
  return create(accountV1.CreateOrganizationResponseSchema, { organization: await toOrganization(deps, org, 'owner') });
}

export async function listOrganizations(deps: AccountDeps, ctx: HandlerContext) {
  const { user } = await currentUser(deps, ctx);
  const rows = await listUserOrganizations(deps.db, user.id);
  const organizations = [];
  for (const row of rows) organizations.push(await toOrganization(deps, row, row.role));
  return create(accountV1.ListOrganizationsResponseSchema, { organizations });
}

export async function createOrganizationProject(deps: AccountDeps, req: accountV1.CreateOrganizationProjectRequest, ctx: HandlerContext) {
  const { user } = await currentUser(deps, ctx);
  const { org, role: mine } = await membershipOf(deps, user, req.organizationId);
  requireManager(mine, 'CreateOrganizationProject');
  const name = organizationName(req.name);
  const description = req.description.trim();
  if (description.length > 2000) throw invalidArgument('description must be at most 2000 characters long');
  if (await findProjectByName(deps.db, name)) throw alreadyExists(`a project named "${name}" exists; choose another name`);
  const projectId = newId('prj');
  await deps.db.transaction().execute(async (trx) => {
    await insertProject(trx, { id: projectId, name, description, defaultSignerId: null });
    await addOrganizationProject(trx, org.id, projectId);
  });
  return create(accountV1.CreateOrganizationProjectResponseSchema, { projectId });
}

export async function inviteMember(deps: AccountDeps, req: accountV1.InviteMemberRequest, ctx: HandlerContext) {
  const { user } = await currentUser(deps, ctx);
  const { org, role: mine } = await membershipOf(deps, user, req.organizationId);
  requireManager(mine, 'InviteMember');
  const email = normalizeEmail(req.email);
  const invited = role(req.role);
  if (invited === 'owner' && mine !== 'owner') throw permissionDenied('only an owner may invite an owner');
  const members = await listOrganizationMembers(deps.db, org.id);
  if (members.some((m) => m.email === email)) throw alreadyExists(`${email} is already a member of this organization`);
  const { token, invitation } = await createInvitation(deps.db, { organizationId: org.id, email, role: invited, invitedBy: user.id });
  await deps.mailer.send({
    to: email,
    subject: `You are invited to ${org.name} on c2pa-mesh`,
    text:
      `${user.display_name || user.email} invites you to the organization "${org.name}" as ${invited}.\n\n` +
      `Register or log in with this address, then accept with this token on the web console's Members page (/console/#/members) or with AccountService/AcceptInvitation:\n\n    ${token}\n\n` +
      `It works for 7 days.\n`,
  });
  return create(accountV1.InviteMemberResponseSchema, { invitationId: invitation.id, expiresAt: invitation.expires_at.toISOString() });
}

/** An invitation to be mailed: the token goes in the mail, only its SHA-256 is kept. */
export async function createInvitation(db: Database, invitation: { organizationId: string; email: string; role: OrganizationRole; invitedBy: string }) {
  const token = `${INVITATION_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const row = await insertOrganizationInvitation(db, {
    id: newId('inv'),
    organizationId: invitation.organizationId,
    email: invitation.email,
    role: invitation.role,
    tokenHash: createHash('sha256').update(token).digest('hex'),
    invitedBy: invitation.invitedBy,
    expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
  });
  return { token, invitation: row };
}

export async function acceptInvitation(deps: AccountDeps, req: accountV1.AcceptInvitationRequest, ctx: HandlerContext) {
  const { user } = await currentUser(deps, ctx);
  if (req.token === '') throw invalidArgument('token is required: the one in the invitation mail');
  const invitation = req.token.startsWith(INVITATION_TOKEN_PREFIX)
    ? await findOrganizationInvitationByHash(deps.db, createHash('sha256').update(req.token).digest('hex'))
    : undefined;
  // An invitation for another address is answered as one that does not exist.
  if (!invitation || invitation.email !== user.email) throw notFound('no invitation with this token for your address');
  if (invitation.accepted_at !== null) throw failedPrecondition('this invitation has already been accepted');
  if (invitation.expires_at.getTime() <= Date.now()) throw failedPrecondition('this invitation has expired: ask for a new one');
  const org = await findOrganization(deps.db, invitation.organization_id);
  if (!org) throw notFound('no invitation with this token for your address');
  if (!(await acceptOrganizationInvitation(deps.db, invitation.id))) throw failedPrecondition('this invitation has already been accepted');
  const existing = await findMembership(deps.db, org.id, user.id);
  // Accepting never lowers a role held already.
  const kept = existing && isOrganizationRole(existing.role) && ORGANIZATION_ROLES.indexOf(existing.role) < ORGANIZATION_ROLES.indexOf(invitation.role as OrganizationRole);
  const member = kept ? existing : await upsertOrganizationMember(deps.db, org.id, user.id, invitation.role);
  return create(accountV1.AcceptInvitationResponseSchema, { organization: await toOrganization(deps, org, member.role) });
}

export async function listMembers(deps: AccountDeps, req: accountV1.ListMembersRequest, ctx: HandlerContext) {
  const { user } = await currentUser(deps, ctx);
  const { org } = await membershipOf(deps, user, req.organizationId);
  const rows = await listOrganizationMembers(deps.db, org.id);
  return create(accountV1.ListMembersResponseSchema, {
    members: rows.map((m) => create(accountV1.MemberSchema, { userId: m.user_id, email: m.email, displayName: m.display_name, role: m.role, joinedAt: m.created_at.toISOString() })),
  });
}

async function targetMember(deps: AccountDeps, organizationId: string, userId: string) {
  if (userId === '') throw invalidArgument('user_id is required');
  const target = await findMembership(deps.db, organizationId, userId);
  if (!target) throw notFound(`no member ${userId} in this organization`);
  return target;
}

export async function updateMemberRole(deps: AccountDeps, req: accountV1.UpdateMemberRoleRequest, ctx: HandlerContext) {
  const { user } = await currentUser(deps, ctx);
  const { org, role: mine } = await membershipOf(deps, user, req.organizationId);
  requireManager(mine, 'UpdateMemberRole');
  const next = role(req.role);
  const target = await targetMember(deps, org.id, req.userId);
  if ((target.role === 'owner' || next === 'owner') && mine !== 'owner') throw permissionDenied('only an owner may make or unmake an owner');
  if (target.role === 'owner' && next !== 'owner' && (await countOrganizationOwners(deps.db, org.id)) <= 1) {
    throw failedPrecondition('the organization needs an owner: make another member owner first');
  }
  const row = await upsertOrganizationMember(deps.db, org.id, target.user_id, next);
  const members = await listOrganizationMembers(deps.db, org.id);
  const m = members.find((x) => x.user_id === row.user_id)!;
  return create(accountV1.UpdateMemberRoleResponseSchema, {
    member: create(accountV1.MemberSchema, { userId: m.user_id, email: m.email, displayName: m.display_name, role: m.role, joinedAt: m.created_at.toISOString() }),
  });
}

export async function removeMember(deps: AccountDeps, req: accountV1.RemoveMemberRequest, ctx: HandlerContext) {
  const { user } = await currentUser(deps, ctx);
  const { org, role: mine } = await membershipOf(deps, user, req.organizationId);
  // Anyone may leave; removing others needs owner or admin.
  if (req.userId !== user.id) requireManager(mine, 'RemoveMember');
  const target = await targetMember(deps, org.id, req.userId);
  if (target.role === 'owner' && mine !== 'owner') throw permissionDenied('only an owner may remove an owner');
  if (target.role === 'owner' && (await countOrganizationOwners(deps.db, org.id)) <= 1) {
    throw failedPrecondition('the organization needs an owner: make another member owner first');
  }
  await deleteOrganizationMember(deps.db, org.id, target.user_id);
  return create(accountV1.RemoveMemberResponseSchema, {});
}

export async function listInvitations(deps: AccountDeps, req: accountV1.ListInvitationsRequest, ctx: HandlerContext) {
  const { user } = await currentUser(deps, ctx);
  const { org, role: mine } = await membershipOf(deps, user, req.organizationId);
  requireManager(mine, 'ListInvitations');
  const rows = await listPendingOrganizationInvitations(deps.db, org.id);
  return create(accountV1.ListInvitationsResponseSchema, {
    invitations: rows.map((row) =>
      create(accountV1.InvitationSchema, {
        invitationId: row.id,
        email: row.email,
        role: row.role,
        invitedBy: row.invited_by,
        createdAt: row.created_at.toISOString(),
        expiresAt: row.expires_at.toISOString(),
      }),
    ),
  });
}

export async function revokeInvitation(deps: AccountDeps, req: accountV1.RevokeInvitationRequest, ctx: HandlerContext) {
  const { user } = await currentUser(deps, ctx);
  const { org, role: mine } = await membershipOf(deps, user, req.organizationId);
  requireManager(mine, 'RevokeInvitation');
  if (req.invitationId === '') throw invalidArgument('invitation_id is required');
  // An accepted invitation, or one of another organization, is answered as one that does not exist.
  if (!(await deletePendingOrganizationInvitation(deps.db, org.id, req.invitationId))) throw notFound(`no pending invitation ${req.invitationId} in this organization`);
  return create(accountV1.RevokeInvitationResponseSchema, {});
}
