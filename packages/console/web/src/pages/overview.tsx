import { healthV1 } from '@c2pa-mesh/proto';
import { health, registry } from '../api';
import { useAccess } from '../access';
import { ActivityChart, BarList, LatencyChart } from '../charts';
import { Card, ErrorNote, ProjectSelect, Table, ms, num, pct, useLoad, when } from '../ui';

const COMPONENTS = [
  ['Signing', 'c2pamesh.signing.v1.SigningService'],
  ['Verification', 'c2pamesh.verification.v1.VerificationService'],
  ['Certificate authority', 'c2pamesh.certificateauthority.v1.CertificateAuthorityService'],
  ['Registry', 'c2pamesh.registry.v1.RegistryService'],
] as const;

/** Counts, charts and errors follow the mesh without a reload (see onMeshChange). */
const LIVE = 'live';

/** The admin sees the whole mesh; a person the project they act on (their role's view of it). */
export function Overview({ project, setProject }: { project: string; setProject: (id: string) => void }) {
  const access = useAccess();
  const stats = useLoad(() => (access.account && !project ? Promise.resolve(undefined) : registry.getUsageStats({})), [project], LIVE);
  const components = useLoad(
    () =>
      Promise.all(
        COMPONENTS.map(async ([name, service]) => {
          try {
            const res = await health.check({ service });
            return { name, status: res.status === healthV1.HealthCheckResponse_ServingStatus.SERVING ? 'Serving' : 'Not serving' };
          } catch {
            return { name, status: 'Not running here' };
          }
        }),
      ),
    [],
    30_000,
  );
  const s = stats.data;
  return (
    <>
      <h1>Overview</h1>
      <ErrorNote error={stats.error} />
      {access.account && (
        <div class="toolbar">
          <ProjectSelect value={project} onChange={setProject} />
        </div>
      )}
      <Card title="System components">
        <ul class="components">
          {(components.data ?? []).map((c) => (
            <li>
              <span class={c.status === 'Serving' ? 'dot ok' : 'dot bad'} aria-hidden="true" />
              {c.name}: <strong>{c.status}</strong>
            </li>
          ))}
        </ul>
      </Card>
      <div class="stats">
        <div class="stat">
          <span class="stat-label">Requests today</span>
          <span class="stat-value" data-testid="today-requests">
            {num(s?.todayRequests)}
          </span>
        </div>
        <div class="stat">
          <span class="stat-label">This week</span>
          <span class="stat-value">{num(s?.weekRequests)}</span>
        </div>
        <div class="stat">
          <span class="stat-label">Success rate (30 days)</span>
          <span class="stat-value">{pct(s?.successRate ?? 0)}</span>
        </div>
        <div class="stat">
          <span class="stat-label">Average duration</span>
          <span class="stat-value">{ms(s?.averageDurationMs)}</span>
        </div>
      </div>
      <div class="grid-2">
        <Card title="Activity, last 30 days">
          <ActivityChart label="Calls per day" columns={(s?.daily ?? []).map((d) => ({ label: d.date, ok: Number(d.successes), failed: Number(d.errors) }))} />
        </Card>
        <Card title="Requests by format">
          <BarList label="Signing and verification calls by media type" entries={(s?.byFormat ?? []).map((f) => ({ label: f.format, value: Number(f.count) }))} />
        </Card>
        <Card title="Latency, last 30 days">
          <LatencyChart label="Call duration per day" days={(s?.daily ?? []).map((d) => ({ label: d.date, calls: Number(d.requests), averageMs: d.averageMs, p50Ms: d.p50Ms }))} />
        </Card>
      </div>
      <Card title="Projects">
        <Table label="Usage by project, last 30 days" head={['Project', 'Requests', 'Success', 'Errors', 'Signs', 'Verifies', 'Avg ms', 'Last used']} empty={(s?.projects.length ?? 0) === 0}>
          {(s?.projects ?? []).map((p) => (
            <tr>
              <td>{p.projectName || p.projectId || '(mesh-wide)'}</td>
              <td>{num(p.requests)}</td>
              <td>{num(p.successes)}</td>
              <td>{num(p.errors)}</td>
              <td>{num(p.signs)}</td>
              <td>{num(p.verifies)}</td>
              <td>{Math.round(p.averageMs)}</td>
              <td>{when(p.lastUsedAt)}</td>
            </tr>
          ))}
        </Table>
      </Card>
      <Card title="Recent errors">
        <Table label="Most recent failed calls" head={['Time', 'Operation', 'Code', 'Project', 'Error', 'Request id']} empty={(s?.recentErrors.length ?? 0) === 0}>
          {(s?.recentErrors ?? []).map((e) => (
            <tr>
              <td>{when(e.occurredAt)}</td>
              <td>{e.operation}</td>
              <td>{e.code}</td>
              <td>{e.projectId}</td>
              <td class="wrap">{e.error}</td>
              <td>
                <code>{e.requestId}</code>
              </td>
            </tr>
          ))}
        </Table>
      </Card>
    </>
  );
}
