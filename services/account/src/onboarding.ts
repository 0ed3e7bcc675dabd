import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import type { MeshClients } from '@c2pa-mesh/clients';
import type { AccountsConfig } from '@c2pa-mesh/config';
import { failedPrecondition, invalidArgument, notFound, unavailable } from '@c2pa-mesh/errors';
import { onboardingV1, type OnboardingService } from '@c2pa-mesh/proto';
import { callContext, callerIdentity, peerKey, requireMeshWide } from '@c2pa-mesh/server';
import {
  addOrganizationProject,
  decideOnboardingApplication,
  decodePageToken,
  encodePageToken,
  findOnboardingApplication,
  findProjectByName,
  insertMemberlessOrganization,
  insertOnboardingApplication,
  insertProject,
  listOnboardingApplications,
  newId,
  setOnboardingCertificate,
  type Database,
  type OnboardingApplicationRow,
} from '@c2pa-mesh/storage';
import type { Logger } from 'pino';
import { countAttempt } from './attempt-limits.js';
import { normalizeEmail } from './handlers.js';
import type { Mailer } from './mailer.js';
import { createInvitation } from './organizations.js';

export interface OnboardingDeps {
  db: Database;
  logger: Logger;
  mailer: Mailer;
  config: Pick<AccountsConfig, 'loginAttemptsPerAddress'>;
  /** The CA, reached as this service's own identity (it issues the approved organization's certificate). */
  clients: Pick<MeshClients, 'certificateAuthority'>;
}

/** What the applicant reads on submission (Verimago's wording). */
export const RECEIVED_MESSAGE = 'Application received. You will be contacted within 48 hours.';
const NAME_MAX = 100;
const DESCRIPTION_MAX = 2000;
const REASON_MAX = 1000;
const MAX_PAGE_SIZE = 200;
/** RFC 1035 host name of at least two labels, as a publisher's domain. */
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** ISO 3166-1 alpha-2, optionally with an ISO 3166-2 subdivision: `US`, `US-OR`, `FR-75`. */
const JURISDICTION = /^[A-Z]{2}(-[A-Z0-9]{1,3})?$/;

function text(raw: string, field: string, max: number, required: boolean): string {
  const value = raw.trim();
  if (required && value === '') throw invalidArgument(`${field} is required`, { details: { field } });
  if (value.length > max) throw invalidArgument(`${field} must be at most ${max} characters long`, { details: { field } });
  // Descriptions may have line breaks; nothing else invisible.
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(value)) throw invalidArgument(`${field} must not contain control characters`, { details: { field } });
  return value;
}

function validated(req: onboardingV1.SubmitApplicationRequest) {
  const organizationName = text(req.organizationName, 'organization_name', NAME_MAX, false);
  const domain = req.domain.trim().toLowerCase().replace(/\.$/, '');
  if (domain !== '' && !DOMAIN.test(domain)) throw invalidArgument(`domain "${req.domain.trim().slice(0, 100)}" is not a DNS name such as example.com`, { details: { field: 'domain' } });
  if (organizationName === '' && domain !== '') throw invalidArgument('organization_name is required with a domain: publishers send both, creators neither', { details: { field: 'organization_name' } });
  if (organizationName !== '' && domain === '') throw invalidArgument('domain is required for a publisher (with organization_name); creators send neither', { details: { field: 'domain' } });
  const jurisdiction = req.jurisdiction.trim().toUpperCase();
  if (jurisdiction !== '' && !JURISDICTION.test(jurisdiction)) throw invalidArgument(`jurisdiction "${req.jurisdiction.trim().slice(0, 20)}" is not an ISO 3166 code such as US or US-OR`, { details: { field: 'jurisdiction' } });
  return {
    kind: organizationName === '' ? ('CREATOR' as const) : ('PUBLISHER' as const),
    organizationName,
    contactEmail: normalizeEmail(req.contactEmail),
    contactName: text(req.contactName, 'contact_name', NAME_MAX, true),
    domain,
    jurisdiction,
    description: text(req.description, 'description', DESCRIPTION_MAX, false),
  };
}

function toApplication(row: OnboardingApplicationRow): onboardingV1.Application {
  return create(onboardingV1.ApplicationSchema, {
    applicationId: row.id,
    kind: row.kind,
    status: row.status,
    organizationName: row.organization_name,
    contactEmail: row.contact_email,
    contactName: row.contact_name,
    domain: row.domain,
    jurisdiction: row.jurisdiction,
    description: row.description,
    submittedAt: row.created_at.toISOString(),
    reviewedAt: row.reviewed_at?.toISOString() ?? '',
    reviewedBy: row.reviewed_by ?? '',
    reason: row.reason,
    organizationId: row.organization_id ?? '',
    projectId: row.project_id ?? '',
    certificateId: row.certificate_id ?? '',
  });
}

async function submitApplication(deps: OnboardingDeps, req: onboardingV1.SubmitApplicationRequest, ctx: HandlerContext) {
  const clientIp = ctx.values.get(peerKey)?.clientIp ?? '';
  // Public: limited per client address like registration.
  await countAttempt(deps.db, [{ bucket: `onboarding:apply:ip:${clientIp}`, perMinute: deps.config.loginAttemptsPerAddress, who: `your address${clientIp ? ` (${clientIp})` : ''}` }]);
  const app = validated(req);
  const row = await insertOnboardingApplication(deps.db, { id: newId('app'), ...app });
  deps.logger.info({ applicationId: row.id, kind: row.kind }, 'onboarding application received');
  return create(onboardingV1.SubmitApplicationResponseSchema, { applicationId: row.id, status: row.status, message: RECEIVED_MESSAGE });
}

async function applicationOrNotFound(deps: OnboardingDeps, id: string): Promise<OnboardingApplicationRow> {
  if (id.trim() === '') throw invalidArgument('application_id is required', { details: { field: 'application_id' } });
  const row = await findOnboardingApplication(deps.db, id.trim());
  if (!row) throw notFound(`no application ${id.trim().slice(0, 100)}`);
  return row;
}

async function getApplication(deps: OnboardingDeps, req: onboardingV1.GetApplicationRequest) {
  const row = await applicationOrNotFound(deps, req.applicationId);
  // The id is a receipt anyone holding it may read: the outcome, not who applied.
  return create(onboardingV1.GetApplicationResponseSchema, {
    applicationId: row.id,
    kind: row.kind,
    status: row.status,
    submittedAt: row.created_at.toISOString(),
    reviewedAt: row.reviewed_at?.toISOString() ?? '',
    reason: row.status === 'REJECTED' ? row.reason : '',
    organizationName: row.organization_name,
  });
}

async function listApplications(deps: OnboardingDeps, req: onboardingV1.ListApplicationsRequest, ctx: HandlerContext) {
  requireMeshWide(ctx, 'ListApplications');
  const status = req.status.trim().toUpperCase();
  if (!['', 'PENDING', 'APPROVED', 'REJECTED'].includes(status)) throw invalidArgument(`status must be PENDING, APPROVED or REJECTED, got "${req.status.slice(0, 20)}"`);
  if (req.pageSize < 0) throw invalidArgument('page_size must not be negative');
  const limit = Math.min(req.pageSize || 50, MAX_PAGE_SIZE);
  const cursor = decodePageToken(req.pageToken);
  const rows = await listOnboardingApplications(deps.db, { status, limit: limit + 1, ...(cursor ? { after: { at: new Date(cursor.at), id: cursor.id } } : {}) });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return create(onboardingV1.ListApplicationsResponseSchema, {
    applications: page.map(toApplication),
    nextPageToken: rows.length > limit && last ? encodePageToken({ at: last.created_at.toISOString(), id: last.id }) : '',
  });
}

/** A project name of its own (names are unique in the mesh): the organization's, else with the application id. */
async function projectNameFor(db: Database, app: OnboardingApplicationRow, organizationName: string): Promise<string> {
  return (await findProjectByName(db, organizationName)) ? `${organizationName} (${app.id})` : organizationName;
}

async function reviewApplication(deps: OnboardingDeps, req: onboardingV1.ReviewApplicationRequest, ctx: HandlerContext) {
  requireMeshWide(ctx, 'ReviewApplication');
  const reviewer = callerIdentity(ctx).id;
  const decision = req.decision.trim().toUpperCase();
  if (decision !== 'APPROVE' && decision !== 'REJECT') throw invalidArgument(`decision must be APPROVE or REJECT, got "${req.decision.slice(0, 20)}"`, { details: { field: 'decision' } });
  const reason = text(req.reason, 'reason', REASON_MAX, decision === 'REJECT');
  const app = await applicationOrNotFound(deps, req.applicationId);

  if (decision === 'REJECT') {
    if (app.status !== 'PENDING') throw failedPrecondition(`application ${app.id} is ${app.status} already; only PENDING applications are reviewed`);
    const rejected = await decideOnboardingApplication(deps.db, app.id, { status: 'REJECTED', reviewedBy: reviewer, reason });
    if (!rejected) throw failedPrecondition(`application ${app.id} was reviewed meanwhile`);
    await deps.mailer.send({
      to: rejected.contact_email,
      subject: 'Your c2pa-mesh application',
      text: `Your application ${rejected.id} was not approved.\n\nReason: ${reason}\n`,
    });
    return create(onboardingV1.ReviewApplicationResponseSchema, { application: toApplication(rejected) });
  }

  let approved = app;
  let invitationExpiresAt = '';
  if (app.status === 'PENDING') {
    const organizationName = app.organization_name || app.contact_name;
    const projectName = await projectNameFor(deps.db, app, organizationName);
    const decided = await deps.db.transaction().execute(async (trx) => {
      const organizationId = newId('org');
      const projectId = newId('prj');
      const row = await decideOnboardingApplication(trx, app.id, { status: 'APPROVED', reviewedBy: reviewer, reason, organizationId, projectId });
      if (!row) return undefined;
      await insertMemberlessOrganization(trx, { id: organizationId, name: organizationName });
      await insertProject(trx, { id: projectId, name: projectName, description: `Onboarded from application ${app.id}`, defaultSignerId: null });
      await addOrganizationProject(trx, organizationId, projectId);
      // The contact becomes the organization's first owner by accepting.
      const invited = await createInvitation(trx, { organizationId, email: row.contact_email, role: 'owner', invitedBy: reviewer });
      return { row, ...invited };
    });
    if (!decided) throw failedPrecondition(`application ${app.id} was reviewed meanwhile`);
    approved = decided.row;
    invitationExpiresAt = decided.invitation.expires_at.toISOString();
    await deps.mailer.send({
      to: approved.contact_email,
      subject: `Your c2pa-mesh application is approved: you are invited to ${organizationName}`,
      text:
        `Your application ${approved.id} is approved. The organization "${organizationName}" was created for you, ` +
        `with the project "${projectName}" (${approved.project_id}) and a C2PA signing certificate waiting for activation.\n\n` +
        `Register or log in with this address, then accept the invitation as owner with AccountService/AcceptInvitation and this token:\n\n    ${decided.token}\n\n` +
        `It works for 7 days. Then activate the certificate (PATCH /verimago/v1/certs/{id}/activate or ` +
        `CertificateAuthorityService/ActivateCertificate) to sign with it.\n`,
    });
  } else if (app.status !== 'APPROVED' || app.certificate_id !== null) {
    throw failedPrecondition(`application ${app.id} is ${app.status} already; only PENDING applications are reviewed`);
  }
  callContext(ctx).projectId = approved.project_id!;
  const certificateId = await issuePendingCertificate(deps, approved);
  approved = (await setOnboardingCertificate(deps.db, approved.id, certificateId)) ?? (await applicationOrNotFound(deps, approved.id));
  return create(onboardingV1.ReviewApplicationResponseSchema, { application: toApplication(approved), invitationExpiresAt });
}

/** The organization's C2PA signing certificate, PENDING until its owner activates it. */
async function issuePendingCertificate(deps: OnboardingDeps, app: OnboardingApplicationRow): Promise<string> {
  const name = app.organization_name || app.contact_name;
  try {
    const issued = await deps.clients.certificateAuthority.issueCertificate({
      profile: 'C2PA_SIGNING',
      commonName: name,
      organization: name,
      projectId: app.project_id!,
      requireActivation: true,
    });
    return issued.certificate!.certificateId;
  } catch (err) {
    deps.logger.error({ err, applicationId: app.id }, 'onboarding: the signing certificate could not be issued');
    throw unavailable(`application ${app.id} is approved, but its signing certificate could not be issued yet; approve it again to retry`);
  }
}

/** The full OnboardingService: every RPC is listed here, so a missing one does not compile. */
export function createOnboardingService(deps: OnboardingDeps): ServiceImpl<typeof OnboardingService> {
  return {
    submitApplication: (req, ctx) => submitApplication(deps, req, ctx),
    getApplication: (req) => getApplication(deps, req),
    listApplications: (req, ctx) => listApplications(deps, req, ctx),
    reviewApplication: (req, ctx) => reviewApplication(deps, req, ctx),
  };
}
