import { useState } from 'preact/hooks';
import type { registryV1 } from '@c2pa-mesh/proto';
import { useAccess } from '../access';
import { errorText, registry } from '../api';
import { Card, Confirm, CopyButton, ErrorNote, ProjectSelect, RoleNote, Table, useLoad, when } from '../ui';

const SCOPES = ['sign', 'verify', 'registry.read', 'registry.write', 'ca.issue', 'ca.revoke'];
type ApiKey = registryV1.ApiKey;

const origins = (text: string) =>
  text
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
/** A date input's value as the end of that day, UTC; empty means never. */
const expiry = (date: string) => (date ? new Date(`${date}T23:59:59Z`).toISOString() : '');

export function Keys({ project, setProject }: { project: string; setProject: (id: string) => void }) {
  const [newProject, setNewProject] = useState('');
  const [error, setError] = useState<string>();
  const [created, setCreated] = useState<{ key: string; name: string }>();
  const [revoking, setRevoking] = useState<ApiKey>();
  const [editing, setEditing] = useState<ApiKey>();
  const access = useAccess();
  // Keys are managed with the admin scope: the mesh's admin, or an owner or admin of the project's organization.
  const manage = access.can('admin');
  const keys = useLoad(async () => (project && manage ? (await registry.listApiKeys({ projectId: project, includeRevoked: true, pageSize: 200 })).apiKeys : []), [project, manage]);

  async function createProject(e: Event) {
    e.preventDefault();
    setError(undefined);
    try {
      const res = await registry.createProject({ name: newProject });
      setNewProject('');
      setProject(res.projectId);
      location.reload();
    } catch (err) {
      setError(errorText(err));
    }
  }

  async function createKey(e: Event) {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    setError(undefined);
    try {
      const res = await registry.createApiKey({
        projectId: project,
        name: String(form.get('name')),
        scopes: SCOPES.filter((s) => form.get(`scope-${s}`) === 'on'),
        allowedOrigins: origins(String(form.get('origins') ?? '')),
        expiresAt: expiry(String(form.get('expires') ?? '')),
      });
      setCreated({ key: res.key, name: res.apiKey?.name ?? '' });
      (e.target as HTMLFormElement).reset();
      keys.reload();
    } catch (err) {
      setError(errorText(err));
    }
  }

  async function saveEdit(e: Event) {
    e.preventDefault();
    if (!editing) return;
    const form = new FormData(e.target as HTMLFormElement);
    const allowed = origins(String(form.get('origins') ?? ''));
    const expires = String(form.get('expires') ?? '');
    setError(undefined);
    try {
      await registry.updateApiKey({
        keyId: editing.keyId,
        name: String(form.get('name')),
        allowedOrigins: allowed,
        clearAllowedOrigins: allowed.length === 0,
        ...(expires ? { expiresAt: expiry(expires) } : { clearExpiry: true }),
      });
      setEditing(undefined);
      keys.reload();
    } catch (err) {
      setError(errorText(err));
    }
  }

  async function revoke() {
    if (!revoking) return;
    setError(undefined);
    try {
      await registry.revokeApiKey({ keyId: revoking.keyId, reason: 'revoked in the console' });
      keys.reload();
    } catch (err) {
      setError(errorText(err));
    }
    setRevoking(undefined);
  }

  return (
    <>
      <h1>API keys</h1>
      <ErrorNote error={error ?? keys.error} />
      <div class="toolbar">
        <ProjectSelect value={project} onChange={setProject} />
        {!access.account && (
        <form class="inline" onSubmit={createProject}>
          <label>
            New project name
            <input value={newProject} required maxLength={200} onInput={(e) => setNewProject((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="secondary">
            Create project
          </button>
        </form>
        )}
      </div>
      {!manage && <RoleNote what="create, edit or revoke API keys" />}
      {created && (
        <div class="secret" role="status">
          <p>
            <strong>Copy it now: it won't be shown again.</strong> The key of “{created.name}”:
          </p>
          <p class="secret-row">
            <code data-testid="new-key">{created.key}</code>
            <CopyButton text={created.key} label="Copy the new API key" />
          </p>
          <button type="button" class="secondary" onClick={() => setCreated(undefined)}>
            I have copied it
          </button>
        </div>
      )}
      {manage && (
      <Card title="Create a key">
        <form class="form" onSubmit={createKey}>
          <label>
            Name
            <input name="name" required maxLength={200} placeholder="CMS production" />
          </label>
          <fieldset>
            <legend>Scopes</legend>
            {SCOPES.map((s) => (
              <label class="check">
                <input type="checkbox" name={`scope-${s}`} defaultChecked={s === 'sign' || s === 'verify'} /> {s}
              </label>
            ))}
          </fieldset>
          <label>
            Allowed origins (comma list, empty = all)
            <input name="origins" placeholder="https://app.example.com" />
          </label>
          <label>
            Expires (empty = never)
            <input name="expires" type="date" />
          </label>
          <button type="submit" disabled={!project}>
            Create key
          </button>
        </form>
      </Card>
      )}
      {manage && (
      <Card title="Keys">
        <Table label="API keys of the project" head={['Name', 'Prefix', 'Scopes', 'Status', 'Origins', 'Created', 'Expires', 'Last used', 'Actions']} empty={(keys.data?.length ?? 0) === 0}>
          {(keys.data ?? []).map((k) => (
            <tr data-key-id={k.keyId}>
              <td>{k.name}</td>
              <td>
                <code>{k.prefix}…</code>
              </td>
              <td>{k.scopes.join(', ')}</td>
              <td>
                <span class={`badge ${k.status.toLowerCase()}`}>{k.status}</span>
              </td>
              <td>{k.allowedOrigins.join(', ') || 'any'}</td>
              <td>{when(k.createdAt)}</td>
              <td>{when(k.expiresAt) || 'never'}</td>
              <td>{when(k.lastUsedAt) || 'never'}</td>
              <td class="actions">
                {k.status !== 'REVOKED' && (
                  <>
                    <button type="button" class="secondary" aria-label={`Edit key ${k.name}`} onClick={() => setEditing(k)}>
                      Edit
                    </button>
                    <button type="button" class="danger" aria-label={`Revoke key ${k.name}`} onClick={() => setRevoking(k)}>
                      Revoke
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </Table>
      </Card>
      )}
      {editing && (
        <Card title={`Edit key ${editing.name}`} id="edit-key">
          <form class="form" onSubmit={saveEdit}>
            <label>
              Name
              <input name="name" required maxLength={200} defaultValue={editing.name} />
            </label>
            <label>
              Allowed origins (comma list, empty = all)
              <input name="origins" defaultValue={editing.allowedOrigins.join(', ')} />
            </label>
            <label>
              Expires (empty = never)
              <input name="expires" type="date" defaultValue={editing.expiresAt.slice(0, 10)} />
            </label>
            <div class="actions">
              <button type="button" class="secondary" onClick={() => setEditing(undefined)}>
                Cancel
              </button>
              <button type="submit">Save</button>
            </div>
          </form>
        </Card>
      )}
      <Confirm open={revoking !== undefined} title={`Revoke ${revoking?.name ?? ''}?`} confirmLabel="Revoke the key" onConfirm={revoke} onCancel={() => setRevoking(undefined)}>
        <p>Every call made with this key will fail at once. This cannot be undone.</p>
      </Confirm>
    </>
  );
}
