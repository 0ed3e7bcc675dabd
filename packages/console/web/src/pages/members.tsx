import { useEffect, useState } from 'preact/hooks';
import type { accountV1 } from '@c2pa-mesh/proto';
import { useAccess } from '../access';
import { account, errorText } from '../api';
import { Card, Confirm, ErrorNote, Table, useLoad, when } from '../ui';

const ROLES = ['viewer', 'member', 'admin', 'owner'] as const;
const field = (form: HTMLFormElement, name: string) => String(new FormData(form).get(name) ?? '');

/** Runs a change, shows its failure, and reloads what it touched. */
function useAction(after: () => void) {
  const [error, setError] = useState<string>();
  const run = async (change: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await change();
      after();
      return true;
    } catch (err) {
      setError(errorText(err));
      return false;
    }
  };
  return { error, run };
}

/** One organization: its members and their roles, invitations, projects. Owners and admins change them. */
function Organization({ org }: { org: accountV1.Organization }) {
  const access = useAccess();
  const manage = org.role === 'owner' || org.role === 'admin';
  const members = useLoad(async () => (await account.listMembers({ organizationId: org.organizationId })).members, [org.organizationId]);
  const invitations = useLoad(async () => (manage ? (await account.listInvitations({ organizationId: org.organizationId })).invitations : []), [org.organizationId, manage]);
  const [removing, setRemoving] = useState<accountV1.Member>();
  const [invited, setInvited] = useState<string>();
  const { error, run } = useAction(() => {
    members.reload();
    invitations.reload();
  });
  // Roles a manager may hand out: only an owner makes owners.
  const grantable = ROLES.filter((r) => r !== 'owner' || org.role === 'owner');

  async function invite(e: Event) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const email = field(form, 'email');
    if (await run(() => account.inviteMember({ organizationId: org.organizationId, email, role: field(form, 'role') }))) {
      setInvited(`Invitation mailed to ${email}.`);
      form.reset();
    }
  }
  async function createProject(e: Event) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    if (await run(() => account.createOrganizationProject({ organizationId: org.organizationId, name: field(form, 'name') }))) {
      form.reset();
      access.reload();
    }
  }

  return (
    <>
      <ErrorNote error={error ?? members.error ?? invitations.error} />
      <Card title={`Members of ${org.name}`} id={`members-${org.organizationId}`}>
        <p class="muted">Your role: {org.role}.</p>
        <Table label={`Member list of ${org.name}`} head={['E-mail', 'Name', 'Role', 'Joined', 'Actions']} empty={(members.data?.length ?? 0) === 0}>
          {(members.data ?? []).map((m) => (
            <tr>
              <td>{m.email}</td>
              <td>{m.displayName}</td>
              <td>
                {manage && (m.role !== 'owner' || org.role === 'owner') ? (
                  <select aria-label={`Role of ${m.email}`} value={m.role} onChange={(e) => run(() => account.updateMemberRole({ organizationId: org.organizationId, userId: m.userId, role: (e.target as HTMLSelectElement).value })).then(() => access.reload())}>
                    {grantable.map((r) => (
                      <option value={r}>{r}</option>
                    ))}
                  </select>
                ) : (
                  m.role
                )}
              </td>
              <td>{when(m.joinedAt)}</td>
              <td class="actions">
                {manage && (m.role !== 'owner' || org.role === 'owner') && (
                  <button type="button" class="danger" aria-label={`Remove ${m.email}`} onClick={() => setRemoving(m)}>
                    Remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </Table>
      </Card>
      {manage && (
        <div class="grid-2">
          <Card title="Invite a member" id={`invite-${org.organizationId}`}>
            <form class="form" onSubmit={invite}>
              <label>
                E-mail address
                <input name="email" type="email" required maxLength={254} />
              </label>
              <label>
                Role
                <select name="role" defaultValue="member">
                  {grantable.map((r) => (
                    <option value={r}>{r}</option>
                  ))}
                </select>
              </label>
              <button type="submit">Send the invitation</button>
            </form>
            {invited && <p role="status">{invited}</p>}
          </Card>
          <Card title="Projects" id={`projects-${org.organizationId}`}>
            <ul>
              {org.projects.map((p) => (
                <li>
                  {p.name} <code>{p.projectId}</code>
                </li>
              ))}
            </ul>
            <form class="inline" onSubmit={createProject}>
              <label>
                New project name
                <input name="name" required maxLength={100} />
              </label>
              <button type="submit" class="secondary">
                Create project
              </button>
            </form>
          </Card>
        </div>
      )}
      {manage && (
        <Card title="Pending invitations" id={`invitations-${org.organizationId}`}>
          <Table label={`Pending invitations of ${org.name}`} head={['E-mail', 'Role', 'Sent', 'Expires', 'Actions']} empty={(invitations.data?.length ?? 0) === 0}>
            {(invitations.data ?? []).map((i) => (
              <tr>
                <td>{i.email}</td>
                <td>{i.role}</td>
                <td>{when(i.createdAt)}</td>
                <td>{when(i.expiresAt)}</td>
                <td class="actions">
                  <button type="button" class="secondary" aria-label={`Withdraw the invitation of ${i.email}`} onClick={() => run(() => account.revokeInvitation({ organizationId: org.organizationId, invitationId: i.invitationId }))}>
                    Withdraw
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        </Card>
      )}
      <Confirm
        open={removing !== undefined}
        title={`Remove ${removing?.email ?? ''}?`}
        confirmLabel="Remove the member"
        onConfirm={() => {
          const m = removing!;
          setRemoving(undefined);
          void run(() => account.removeMember({ organizationId: org.organizationId, userId: m.userId })).then(() => access.reload());
        }}
        onCancel={() => setRemoving(undefined)}
      >
        <p>They lose access to every project of {org.name} at once.</p>
      </Confirm>
    </>
  );
}

/** Organizations of the signed-in person: members, roles, invitations; creating one; accepting an invitation. */
export function Members() {
  const access = useAccess();
  const [chosen, setChosen] = useState('');
  const { error, run } = useAction(() => access.reload());
  useEffect(() => {
    if (!access.organizations.some((o) => o.organizationId === chosen) && access.organizations.length > 0) setChosen(access.organizations[0].organizationId);
  }, [access.organizations]);
  if (!access.account) {
    return (
      <>
        <h1>Members</h1>
        <p class="note" role="note">
          Organizations, their members and invitations belong to people's accounts. Sign in with an account to manage yours; the admin certificate manages the mesh's projects and keys.
        </p>
      </>
    );
  }
  const org = access.organizations.find((o) => o.organizationId === chosen);
  return (
    <>
      <h1>Members</h1>
      <ErrorNote error={error} />
      <div class="toolbar">
        {access.organizations.length > 0 && (
          <label>
            Organization
            <select value={chosen} onChange={(e) => setChosen((e.target as HTMLSelectElement).value)}>
              {access.organizations.map((o) => (
                <option value={o.organizationId}>
                  {o.name} ({o.role})
                </option>
              ))}
            </select>
          </label>
        )}
        <form
          class="inline"
          onSubmit={async (e) => {
            e.preventDefault();
            const form = e.target as HTMLFormElement;
            if (await run(() => account.createOrganization({ name: field(form, 'name') }))) form.reset();
          }}
        >
          <label>
            New organization name
            <input name="name" required maxLength={100} />
          </label>
          <button type="submit" class="secondary">
            Create organization
          </button>
        </form>
        <form
          class="inline"
          onSubmit={async (e) => {
            e.preventDefault();
            const form = e.target as HTMLFormElement;
            if (await run(() => account.acceptInvitation({ token: field(form, 'token').trim() }))) form.reset();
          }}
        >
          <label>
            Invitation token (from the e-mail)
            <input name="token" required maxLength={200} autocomplete="off" />
          </label>
          <button type="submit" class="secondary">
            Accept the invitation
          </button>
        </form>
      </div>
      {org && <Organization org={org} />}
    </>
  );
}
