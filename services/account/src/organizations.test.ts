/**
 * Organizations: people act on their organization's projects with the scopes of their role,
 * through the same scope and tenant checks as API keys. No SMTP server here: mail goes to the
 * outbox table (and the log), where the codes and invitation tokens are read.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createTestMesh, ADMIN_IDENTITY, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { AccountService, RegistryService, SigningService, VerificationService } from '@c2pa-mesh/proto';
import { listOutboxMail } from '@c2pa-mesh/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MEDIA = path.resolve(import.meta.dirname, '../../../test/fixtures/media');
const PASSWORD = 'a long enough passphrase';

let mesh: TestMesh;
let accounts: Client<typeof AccountService>;

beforeAll(async () => {
  mesh = await createTestMesh();
  accounts = createClient(AccountService, mesh.transport());
}, 120_000);

afterAll(async () => {
  await mesh?.close();
});

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

async function lastMail(email: string) {
  const mail = await listOutboxMail(mesh.db, email);
  expect(mail.length).toBeGreaterThan(0);
  return mail[mail.length - 1];
}

/** Registers with the code from the outbox; the token for `projectId` (or none). */
async function person(email: string) {
  await accounts.register({ email, password: PASSWORD, displayName: email.split('@')[0] });
  const code = /code: (\d{6})/.exec((await lastMail(email)).subject)![1];
  await accounts.verifyEmail({ email, code });
  const login = await accounts.login({ email, password: PASSWORD });
  return { userId: login.user!.userId, token: login.tokens!.accessToken, refresh: login.tokens!.refreshToken };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    return Code[ConnectError.from(err).code];
  }
}

function signRequest(asset: Uint8Array, projectId = '') {
  return { asset, format: 'image/jpeg', manifestJson: JSON.stringify({ title: 'org.jpg', assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture' }] } }] }), projectId };
}

describe(`organizations on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let alice: Awaited<ReturnType<typeof person>>;
  let bob: Awaited<ReturnType<typeof person>>;
  let orgA = '';
  let orgB = '';
  let projectA = '';
  let projectB = '';
  let bobAssetId = '';
  const image = readFile(path.join(MEDIA, 'no_manifest.jpg'));

  it('keeps mail in the outbox without an SMTP server', async () => {
    alice = await person('alice@a.example');
    const mail = await listOutboxMail(mesh.db, 'alice@a.example');
    expect(mail).toHaveLength(1);
    expect(mail[0]).toMatchObject({ status: 'OUTBOX', subject: expect.stringMatching(/^Your c2pa-mesh verification code: \d{6}$/) });
    expect(mail[0].body_text).toContain(/\d{6}/.exec(mail[0].subject)![0]);
  });

  it('makes organizations that own projects; a token for a project carries the role\'s scopes', async () => {
    bob = await person('bob@b.example');
    orgA = (await accounts.createOrganization({ name: 'Org A' }, bearer(alice.token))).organization!.organizationId;
    orgB = (await accounts.createOrganization({ name: 'Org B' }, bearer(bob.token))).organization!.organizationId;
    projectA = (await accounts.createOrganizationProject({ organizationId: orgA, name: 'A photos' }, bearer(alice.token))).projectId;
    projectB = (await accounts.createOrganizationProject({ organizationId: orgB, name: 'B photos' }, bearer(bob.token))).projectId;
    const listed = await accounts.listOrganizations({}, bearer(alice.token));
    expect(listed.organizations).toEqual([expect.objectContaining({ organizationId: orgA, name: 'Org A', role: 'owner', projectIds: [projectA] })]);

    const owner = await accounts.login({ email: 'alice@a.example', password: PASSWORD, projectId: projectA });
    expect(owner.tokens!.projectId).toBe(projectA);
    expect(owner.tokens!.scopes).toContain('admin');
    alice.token = owner.tokens!.accessToken;

    // The owner's token creates an API key for its project, which signs.
    const registry = createClient(RegistryService, mesh.transport());
    const { key } = await registry.createApiKey({ projectId: projectA, name: 'ci', scopes: ['sign', 'verify'] }, bearer(alice.token));
    const signed = await createClient(SigningService, mesh.transport()).sign(signRequest(await image), bearer(key));
    expect(signed.assetId).not.toBe('');
    const verified = await createClient(VerificationService, mesh.transport()).verify({ asset: signed.signedAsset, format: 'image/jpeg' }, bearer(key));
    expect(verified.valid).toBe(true);

    const bobToken = (await accounts.refresh({ refreshToken: bob.refresh, projectId: projectB })).tokens!;
    bob.token = bobToken.accessToken;
    bob.refresh = bobToken.refreshToken;
    bobAssetId = (await createClient(SigningService, mesh.transport()).sign(signRequest(await image), bearer(bob.token))).assetId;
  });

  it('shows a member of organization A nothing of organization B', async () => {
    const registry = createClient(RegistryService, mesh.transport());
    expect(await codeOf(registry.getAsset({ assetId: bobAssetId }, bearer(alice.token)))).toBe('NotFound');
    expect(await codeOf(registry.createApiKey({ projectId: projectB, name: 'x', scopes: ['sign'] }, bearer(alice.token)))).toBe('NotFound');
    expect(await codeOf(createClient(SigningService, mesh.transport()).sign(signRequest(await image, projectB), bearer(alice.token)))).toBe('NotFound');
    expect(await codeOf(accounts.listMembers({ organizationId: orgB }, bearer(alice.token)))).toBe('NotFound');
    expect(await codeOf(accounts.inviteMember({ organizationId: orgB, email: 'eve@a.example', role: 'admin' }, bearer(alice.token)))).toBe('NotFound');
    expect(await codeOf(accounts.login({ email: 'alice@a.example', password: PASSWORD, projectId: projectB }))).toBe('NotFound');
    const projects = await registry.listProjects({}, bearer(alice.token));
    expect(projects.projects.map((p) => p.projectId)).toEqual([projectA]);
    // Nor may an organization's owner act on the whole mesh.
    expect(await codeOf(registry.createProject({ name: 'mine now' }, bearer(alice.token)))).toBe('PermissionDenied');
  });

  it('invites by e-mail; a viewer cannot sign, a member can, and a removed member loses access at once', async () => {
    const invite = async (email: string, role: string) => {
      await accounts.inviteMember({ organizationId: orgA, email, role }, bearer(alice.token));
      return /c2mi_[A-Za-z0-9_-]+/.exec((await lastMail(email)).body_text)![0];
    };
    const viewerInvitation = await invite('carol@c.example', 'viewer');
    const memberInvitation = await invite('dave@d.example', 'member');
    // Pending invitations, listed for owners and admins without their tokens; one withdrawn stops working.
    const withdrawn = await invite('erin@e.example', 'member');
    const pending = (await accounts.listInvitations({ organizationId: orgA }, bearer(alice.token))).invitations;
    expect(pending.map((i) => [i.email, i.role])).toEqual([
      ['erin@e.example', 'member'],
      ['dave@d.example', 'member'],
      ['carol@c.example', 'viewer'],
    ]);
    expect(JSON.stringify(pending)).not.toContain('c2mi_');
    await accounts.revokeInvitation({ organizationId: orgA, invitationId: pending[0].invitationId }, bearer(alice.token));
    expect(await codeOf(accounts.revokeInvitation({ organizationId: orgA, invitationId: pending[0].invitationId }, bearer(alice.token)))).toBe('NotFound');
    const erin = await person('erin@e.example');
    expect(await codeOf(accounts.acceptInvitation({ token: withdrawn }, bearer(erin.token)))).toBe('NotFound');
    expect(await codeOf(accounts.listInvitations({ organizationId: orgA }, bearer(erin.token)))).toBe('NotFound');
    const carol = await person('carol@c.example');
    const dave = await person('dave@d.example');
    // An invitation works only for the address it was mailed to.
    expect(await codeOf(accounts.acceptInvitation({ token: viewerInvitation }, bearer(dave.token)))).toBe('NotFound');
    expect((await accounts.acceptInvitation({ token: viewerInvitation }, bearer(carol.token))).organization).toMatchObject({ organizationId: orgA, role: 'viewer' });
    expect(await codeOf(accounts.acceptInvitation({ token: viewerInvitation }, bearer(carol.token)))).toBe('FailedPrecondition');
    await accounts.acceptInvitation({ token: memberInvitation }, bearer(dave.token));

    const viewer = (await accounts.refresh({ refreshToken: carol.refresh, projectId: projectA })).tokens!;
    expect([...viewer.scopes].sort()).toEqual(['registry.read', 'verify']);
    const signing = createClient(SigningService, mesh.transport());
    expect(await codeOf(signing.sign(signRequest(await image), bearer(viewer.accessToken)))).toBe('PermissionDenied');
    expect(await codeOf(createClient(RegistryService, mesh.transport()).createApiKey({ projectId: projectA, name: 'v', scopes: ['verify'] }, bearer(viewer.accessToken)))).toBe('PermissionDenied');
    expect(await codeOf(accounts.inviteMember({ organizationId: orgA, email: 'x@x.example', role: 'viewer' }, bearer(viewer.accessToken)))).toBe('PermissionDenied');
    expect(await codeOf(accounts.listInvitations({ organizationId: orgA }, bearer(viewer.accessToken)))).toBe('PermissionDenied');
    expect((await accounts.listInvitations({ organizationId: orgA }, bearer(alice.token))).invitations.map((i) => i.email)).toEqual([]);

    const member = (await accounts.refresh({ refreshToken: dave.refresh, projectId: projectA })).tokens!;
    const signed = await signing.sign(signRequest(await image), bearer(member.accessToken));
    const asset = await createClient(RegistryService, mesh.transport()).getAsset({ assetId: signed.assetId }, bearer(viewer.accessToken));
    expect(asset.asset?.projectId).toBe(projectA);

    const members = await accounts.listMembers({ organizationId: orgA }, bearer(viewer.accessToken));
    expect(members.members.map((m) => [m.email, m.role])).toEqual([
      ['alice@a.example', 'owner'],
      ['carol@c.example', 'viewer'],
      ['dave@d.example', 'member'],
    ]);
    // Roles are read on every call: a lowered role, then a removal, count at once.
    await accounts.updateMemberRole({ organizationId: orgA, userId: dave.userId, role: 'viewer' }, bearer(alice.token));
    expect(await codeOf(signing.sign(signRequest(await image), bearer(member.accessToken)))).toBe('PermissionDenied');
    await accounts.removeMember({ organizationId: orgA, userId: dave.userId }, bearer(alice.token));
    expect(await codeOf(signing.sign(signRequest(await image), bearer(member.accessToken)))).toBe('Unauthenticated');
    // The last owner stays.
    expect(await codeOf(accounts.removeMember({ organizationId: orgA, userId: alice.userId }, bearer(alice.token)))).toBe('FailedPrecondition');
  });

  it('keeps projects made by the admin certificate working as before', async () => {
    const admin = createClient(RegistryService, mesh.transport(ADMIN_IDENTITY));
    const { projectId } = await admin.createProject({ name: 'no organization' });
    const { key } = await admin.createApiKey({ projectId, name: 'plain', scopes: ['sign'] });
    expect((await createClient(SigningService, mesh.transport()).sign(signRequest(await image), bearer(key))).assetId).not.toBe('');
    // No organization owns it: nobody gets a token for it.
    expect(await codeOf(accounts.login({ email: 'alice@a.example', password: PASSWORD, projectId }))).toBe('NotFound');
    expect((await admin.listProjects({})).projects.map((p) => p.projectId)).toEqual(expect.arrayContaining([projectA, projectB, projectId]));
  });
});
