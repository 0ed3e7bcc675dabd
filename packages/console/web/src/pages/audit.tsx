import { useEffect, useState } from 'preact/hooks';
import type { registryV1 } from '@c2pa-mesh/proto';
import { useAccess } from '../access';
import { registry } from '../api';
import { ErrorNote, ProjectSelect, Table, bytes, useLoad, when } from '../ui';

/** New calls appear without a reload (see onMeshChange). */
const LIVE = 'live';

/** The admin filters by project or sees all; a person sees the project they act on. */
export function Audit(props: { project: string; setProject: (id: string) => void }) {
  const access = useAccess();
  const [filter, setFilter] = useState('');
  const [project, setProject] = access.account ? [props.project, props.setProject] : [filter, setFilter];
  const [operation, setOperation] = useState('');
  const [status, setStatus] = useState('');
  const [older, setOlder] = useState<registryV1.AuditEvent[]>([]);
  const [nextToken, setNextToken] = useState('');
  const page = useLoad(
    async () => {
      const res = await registry.listAuditEvents({ projectId: project, operation, status, pageSize: 100 });
      // The first page follows the log; older pages already loaded stay as they are.
      setNextToken((token) => token || res.nextPageToken);
      return res.events;
    },
    [project, operation, status],
    LIVE,
  );
  useEffect(() => {
    setOlder([]);
    setNextToken('');
  }, [project, operation, status]);
  async function more() {
    const res = await registry.listAuditEvents({ projectId: project, operation, status, pageSize: 100, pageToken: nextToken });
    setOlder((o) => [...o, ...res.events]);
    setNextToken(res.nextPageToken);
  }
  const events = [...(page.data ?? []), ...older];
  return (
    <>
      <h1>Audit log</h1>
      <ErrorNote error={page.error} />
      <div class="toolbar">
        <ProjectSelect value={project} onChange={setProject} allowAll />
        <label>
          Operation
          <input value={operation} placeholder="e.g. Sign" onChange={(e) => setOperation((e.target as HTMLInputElement).value.trim())} />
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
            <option value="">Any</option>
            <option value="SUCCESS">Success</option>
            <option value="ERROR">Error</option>
          </select>
        </label>
      </div>
      <Table label="Audit events, newest first" head={['Time', 'Op', 'Format', 'Status', 'Project', 'Client IP', 'Size', 'Duration', 'Error', 'Request id']} empty={events.length === 0}>
        {events.map((e) => (
          <tr>
            <td>{when(e.occurredAt)}</td>
            <td>{e.operation}</td>
            <td>{e.format}</td>
            <td>
              <span class={e.status === 'SUCCESS' ? 'badge active' : 'badge revoked'}>{e.status === 'SUCCESS' ? 'ok' : e.code}</span>
            </td>
            <td>{e.projectId}</td>
            <td>{e.clientIp}</td>
            <td>{bytes(e.sizeBytes)}</td>
            <td>{Number(e.durationMs)} ms</td>
            <td class="wrap">{e.error}</td>
            <td>
              <code>{e.requestId}</code>
            </td>
          </tr>
        ))}
      </Table>
      {nextToken && (
        <button type="button" class="secondary" onClick={more}>
          Load older events
        </button>
      )}
    </>
  );
}
