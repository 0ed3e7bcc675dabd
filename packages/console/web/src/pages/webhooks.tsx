import { useState } from 'preact/hooks';
import { errorText, registry } from '../api';
import { useAccess } from '../access';
import { Card, CopyButton, ErrorNote, ProjectSelect, RoleNote, Table, useLoad, when } from '../ui';

const EVENTS = ['asset.signed', 'verification.completed', 'certificate.revoked', 'api_key.revoked'];

function Deliveries({ webhookId }: { webhookId: string }) {
  const deliveries = useLoad(async () => (await registry.listWebhookDeliveries({ webhookId, pageSize: 50 })).deliveries, [webhookId], 5000);
  return (
    <Table label="Deliveries of the webhook" head={['Event', 'Status', 'Attempts', 'HTTP', 'Error', 'Created', 'Delivered']} empty={(deliveries.data?.length ?? 0) === 0}>
      {(deliveries.data ?? []).map((d) => (
        <tr>
          <td>{d.event}</td>
          <td>{d.status}</td>
          <td>{d.attempts}</td>
          <td>{d.lastStatusCode || ''}</td>
          <td class="wrap">{d.lastError}</td>
          <td>{when(d.createdAt)}</td>
          <td>{when(d.deliveredAt)}</td>
        </tr>
      ))}
    </Table>
  );
}

export function Webhooks({ project, setProject }: { project: string; setProject: (id: string) => void }) {
  const [error, setError] = useState<string>();
  const [secret, setSecret] = useState<string>();
  const [open, setOpen] = useState<string>();
  // Adding and deleting webhooks needs `registry.write` (a member, owner or admin); a viewer reads them.
  const write = useAccess().can('registry.write');
  const hooks = useLoad(async () => (project ? (await registry.listWebhooks({ projectId: project, pageSize: 100 })).webhooks : []), [project]);

  async function create(e: Event) {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    setError(undefined);
    try {
      const res = await registry.createWebhook({ projectId: project, url: String(form.get('url')), events: EVENTS.filter((ev) => form.get(ev) === 'on') });
      setSecret(res.secret);
      hooks.reload();
    } catch (err) {
      setError(errorText(err));
    }
  }
  async function remove(id: string) {
    setError(undefined);
    try {
      await registry.deleteWebhook({ webhookId: id });
      hooks.reload();
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <>
      <h1>Webhooks</h1>
      <ErrorNote error={error ?? hooks.error} />
      <div class="toolbar">
        <ProjectSelect value={project} onChange={setProject} />
      </div>
      {secret && (
        <div class="secret" role="status">
          <p>
            <strong>Copy it now: it won't be shown again.</strong> Deliveries are signed with this secret (HMAC-SHA256 of the body):
          </p>
          <p class="secret-row">
            <code>{secret}</code>
            <CopyButton text={secret} label="Copy the webhook secret" />
          </p>
        </div>
      )}
      {!write && <RoleNote what="add or delete webhooks" />}
      {write && (
      <Card title="Add a webhook">
        <form class="form" onSubmit={create}>
          <label>
            URL (https, public address)
            <input name="url" type="url" required placeholder="https://hooks.example.com/c2pa" />
          </label>
          <fieldset>
            <legend>Events</legend>
            {EVENTS.map((ev) => (
              <label class="check">
                <input type="checkbox" name={ev} defaultChecked /> {ev}
              </label>
            ))}
          </fieldset>
          <button type="submit" disabled={!project}>
            Add webhook
          </button>
        </form>
      </Card>
      )}
      <Card title="Webhooks">
        <Table label="Webhooks of the project" head={['URL', 'Events', 'Created', 'Actions']} empty={(hooks.data?.length ?? 0) === 0}>
          {(hooks.data ?? []).map((h) => (
            <tr>
              <td class="wrap">{h.url}</td>
              <td>{h.events.join(', ')}</td>
              <td>{when(h.createdAt)}</td>
              <td class="actions">
                <button type="button" class="secondary" aria-expanded={open === h.webhookId} aria-label={`Deliveries of ${h.url}`} onClick={() => setOpen(open === h.webhookId ? undefined : h.webhookId)}>
                  Deliveries
                </button>
                {write && (
                <button type="button" class="danger" aria-label={`Delete webhook ${h.url}`} onClick={() => remove(h.webhookId)}>
                  Delete
                </button>
                )}
              </td>
            </tr>
          ))}
        </Table>
        {open && <Deliveries webhookId={open} />}
      </Card>
    </>
  );
}
