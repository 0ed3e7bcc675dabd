import { useState } from 'preact/hooks';
import type { onboardingV1 } from '@c2pa-mesh/proto';
import { errorText, onboarding } from '../api';
import { Card, Confirm, ErrorNote, Table, useLoad, when } from '../ui';

const FILTERS = [
  ['PENDING', 'Pending'],
  ['APPROVED', 'Approved'],
  ['REJECTED', 'Rejected'],
  ['', 'All'],
] as const;

/** Who applied: the organization for a publisher, the person for a creator. */
const applicant = (a: onboardingV1.Application) => a.organizationName || a.contactName;

/** Publisher and creator applications, reviewed by the mesh's admins. */
export function Onboarding() {
  const [status, setStatus] = useState('PENDING');
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  const [reviewing, setReviewing] = useState<{ app: onboardingV1.Application; decision: 'APPROVE' | 'REJECT' }>();
  const [reason, setReason] = useState('');
  const apps = useLoad(async () => (await onboarding.listApplications({ status, pageSize: 200 })).applications, [status], 'live');

  function open(app: onboardingV1.Application, decision: 'APPROVE' | 'REJECT') {
    setReason('');
    setError(undefined);
    setReviewing({ app, decision });
  }
  async function review() {
    const { app, decision } = reviewing!;
    if (decision === 'REJECT' && reason.trim() === '') {
      setError('Give the applicant a reason for the rejection.');
      return;
    }
    setReviewing(undefined);
    setError(undefined);
    try {
      const res = await onboarding.reviewApplication({ applicationId: app.applicationId, decision, reason });
      const a = res.application!;
      setDone(
        decision === 'APPROVE'
          ? `Approved ${applicant(a)}: organization ${a.organizationId} with project ${a.projectId}; invitation mailed to ${a.contactEmail}; certificate ${a.certificateId} is PENDING until the organization activates it.`
          : `Rejected ${applicant(a)}; the reason was mailed to ${a.contactEmail}.`,
      );
      apps.reload();
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <>
      <h1>Onboarding</h1>
      <ErrorNote error={error ?? apps.error} />
      {done && <p role="status">{done}</p>}
      <Card title="Applications">
        <p class="muted">
          Approving creates the organization and its project, mails the contact an invitation as owner, and issues a C2PA signing certificate in status PENDING: it signs nothing until the organization activates it.
        </p>
        <div class="toolbar">
          <label>
            Status
            <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
              {FILTERS.map(([value, text]) => (
                <option value={value}>{text}</option>
              ))}
            </select>
          </label>
        </div>
        <Table label="Applications" head={['Applicant', 'Contact', 'Description', 'Status', 'Actions']} empty={(apps.data?.length ?? 0) === 0}>
          {(apps.data ?? []).map((a) => (
            <tr>
              <td>
                {applicant(a)}
                <br />
                <span class="muted">{[a.kind === 'PUBLISHER' ? 'Publisher' : 'Creator', a.domain, a.jurisdiction].filter(Boolean).join(' · ')}</span>
              </td>
              <td>
                {a.contactName}
                <br />
                <span class="muted">{a.contactEmail}</span>
              </td>
              <td class="wrap">{a.description}</td>
              <td>
                <span class={`badge ${a.status.toLowerCase()}`}>{a.status}</span>
                <div class="muted">applied {when(a.submittedAt).slice(0, 10)}</div>
                {a.reason && <div class="muted">{a.reason}</div>}
                {a.certificateId && (
                  <div class="muted">
                    Certificate <code>{a.certificateId}</code>
                  </div>
                )}
              </td>
              <td class="actions">
                {a.status === 'PENDING' && (
                  <>
                    <button type="button" aria-label={`Approve ${applicant(a)}`} onClick={() => open(a, 'APPROVE')}>
                      Approve
                    </button>
                    <button type="button" class="danger" aria-label={`Reject ${applicant(a)}`} onClick={() => open(a, 'REJECT')}>
                      Reject
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </Table>
      </Card>
      <Confirm
        open={reviewing !== undefined}
        title={`${reviewing?.decision === 'REJECT' ? 'Reject' : 'Approve'} ${reviewing ? applicant(reviewing.app) : ''}?`}
        confirmLabel={reviewing?.decision === 'REJECT' ? 'Reject the application' : 'Approve the application'}
        onCancel={() => setReviewing(undefined)}
        onConfirm={review}
      >
        {reviewing?.decision === 'APPROVE' ? (
          <p>
            The organization “{applicant(reviewing.app)}” is created, {reviewing.app.contactEmail} is invited as its owner, and a signing certificate is issued in status PENDING.
          </p>
        ) : (
          <p>The applicant reads the reason, by mail and with the application's id.</p>
        )}
        <label>
          {reviewing?.decision === 'REJECT' ? 'Reason (required)' : 'Note (optional)'}
          <textarea value={reason} maxLength={1000} rows={3} onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)} />
        </label>
      </Confirm>
    </>
  );
}
