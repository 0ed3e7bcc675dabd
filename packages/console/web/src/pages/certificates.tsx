import { useState } from 'preact/hooks';
import type { certificateAuthorityV1 } from '@c2pa-mesh/proto';
import { useAccess } from '../access';
import { ca, errorText } from '../api';
import { Card, Confirm, ErrorNote, RoleNote, Table, download, useLoad, useProjects, when } from '../ui';

/** RFC 5280 CRLReason codes offered when revoking. */
const REASONS = [
  [0, 'unspecified'],
  [1, 'keyCompromise'],
  [3, 'affiliationChanged'],
  [4, 'superseded'],
  [5, 'cessationOfOperation'],
] as const;

export function Certificates() {
  const [error, setError] = useState<string>();
  const [issued, setIssued] = useState<string>();
  const [revoking, setRevoking] = useState<certificateAuthorityV1.Certificate>();
  const [reason, setReason] = useState(0);
  const { data: projects } = useProjects();
  const access = useAccess();
  const [canIssue, canRevoke] = [access.can('ca.issue'), access.can('ca.revoke')];
  const certs = useLoad(async () => (await ca.listCertificates({ includeMeshWide: true, pageSize: 200 })).certificates, []);

  async function issue(e: Event) {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    setError(undefined);
    try {
      const res = await ca.issueCertificate({
        profile: String(form.get('profile')),
        commonName: String(form.get('cn')),
        organization: String(form.get('org')),
        keyAlgorithm: String(form.get('alg')),
        validityDays: Number(form.get('days')),
        projectId: String(form.get('project')),
      });
      setIssued(`${res.certificate?.commonName} (${res.certificate?.certificateId}) issued as ${res.certificate?.status}`);
      certs.reload();
    } catch (err) {
      setError(errorText(err));
    }
  }
  async function act(run: () => Promise<unknown>) {
    setError(undefined);
    try {
      await run();
      certs.reload();
    } catch (err) {
      setError(errorText(err));
    }
  }
  async function chain(c: certificateAuthorityV1.Certificate) {
    await act(async () => {
      const res = await ca.getCertificateChain({ certificateId: c.certificateId });
      download(`${c.commonName || c.certificateId}-chain.pem`, `${c.certificatePem.trim()}\n${res.chainPem.trim()}\n`, 'application/x-pem-file');
    });
  }

  return (
    <>
      <h1>Certificates</h1>
      <ErrorNote error={error ?? certs.error} />
      {issued && <p role="status">{issued}</p>}
      {!canIssue && <RoleNote what="issue or activate certificates" />}
      {canIssue && (
      <Card title="Issue a certificate">
        <form class="form" onSubmit={issue}>
          <label>
            Profile
            <select name="profile">
              <option value="C2PA_SIGNING">C2PA signing</option>
              <option value="MESH_CLIENT">Mesh client</option>
            </select>
          </label>
          <label>
            Common name
            <input name="cn" required maxLength={64} placeholder="Newsroom signer" />
          </label>
          <label>
            Organization
            <input name="org" maxLength={64} />
          </label>
          <label>
            Key algorithm
            <select name="alg">
              <option>ES256</option>
              <option>ES384</option>
              <option>PS256</option>
              <option>ED25519</option>
            </select>
          </label>
          <label>
            Validity (days)
            <input name="days" type="number" min={1} max={825} defaultValue="365" />
          </label>
          <label>
            Project
            <select name="project">
              {!access.account && <option value="">None (mesh-wide)</option>}
              {(projects ?? []).map((p) => (
                <option value={p.projectId}>{p.name}</option>
              ))}
            </select>
          </label>
          <button type="submit">Issue</button>
        </form>
      </Card>
      )}
      <Card title="Issued certificates">
        <Table label="Certificates" head={['Common name', 'Profile', 'Status', 'Algorithm', 'Project', 'Serial', 'Valid until', 'Actions']} empty={(certs.data?.length ?? 0) === 0}>
          {(certs.data ?? []).map((c) => (
            <tr>
              <td>{c.commonName}</td>
              <td>{c.profile}</td>
              <td>
                <span class={`badge ${c.status.toLowerCase()}`}>{c.status}</span>
              </td>
              <td>{c.keyAlgorithm}</td>
              <td>{c.projectId}</td>
              <td>
                <code>{c.serialNumber.slice(0, 16)}</code>
              </td>
              <td>{when(c.notAfter)}</td>
              <td class="actions">
                {c.status === 'PENDING' && canIssue && (
                  <button type="button" class="secondary" aria-label={`Activate ${c.commonName}`} onClick={() => act(() => ca.activateCertificate({ certificateId: c.certificateId }))}>
                    Activate
                  </button>
                )}
                <button type="button" class="secondary" aria-label={`Download the chain of ${c.commonName}`} onClick={() => chain(c)}>
                  Chain
                </button>
                {c.status !== 'REVOKED' && !c.profile.endsWith('_CA') && canRevoke && (
                  <button type="button" class="danger" aria-label={`Revoke ${c.commonName}`} onClick={() => setRevoking(c)}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </Table>
      </Card>
      <Confirm
        open={revoking !== undefined}
        title={`Revoke ${revoking?.commonName ?? ''}?`}
        confirmLabel="Revoke the certificate"
        onCancel={() => setRevoking(undefined)}
        onConfirm={() => {
          const c = revoking!;
          setRevoking(undefined);
          act(() => ca.revokeCertificate({ certificateId: c.certificateId, reason }));
        }}
      >
        <p>OCSP answers “revoked” at once; what it signed afterwards no longer validates.</p>
        <label>
          Reason
          <select value={String(reason)} onChange={(e) => setReason(Number((e.target as HTMLSelectElement).value))}>
            {REASONS.map(([code, text]) => (
              <option value={String(code)}>{text}</option>
            ))}
          </select>
        </label>
      </Confirm>
    </>
  );
}
