import type { Kysely, Transaction } from 'kysely';
import type { MeshDatabase, OnboardingApplicationRow, OrganizationRow } from '../schema.js';
import { afterKeyset, type KeysetPosition } from './keyset.js';

type Db = Kysely<MeshDatabase> | Transaction<MeshDatabase>;

export interface NewOnboardingApplication {
  id: string;
  kind: 'PUBLISHER' | 'CREATOR';
  organizationName: string;
  contactEmail: string;
  contactName: string;
  domain: string;
  jurisdiction: string;
  description: string;
}

export async function insertOnboardingApplication(db: Db, app: NewOnboardingApplication): Promise<OnboardingApplicationRow> {
  return db
    .insertInto('onboarding_applications')
    .values({
      id: app.id,
      kind: app.kind,
      status: 'PENDING',
      organization_name: app.organizationName,
      contact_email: app.contactEmail,
      contact_name: app.contactName,
      domain: app.domain,
      jurisdiction: app.jurisdiction,
      description: app.description,
      // Written by the application at millisecond precision: the keyset cursor compares exactly.
      created_at: new Date(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findOnboardingApplication(db: Db, id: string): Promise<OnboardingApplicationRow | undefined> {
  return db.selectFrom('onboarding_applications').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Newest first. */
export async function listOnboardingApplications(db: Db, filter: { status?: string; after?: KeysetPosition; limit: number }): Promise<OnboardingApplicationRow[]> {
  let query = db.selectFrom('onboarding_applications').selectAll();
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.after) query = query.where(afterKeyset('onboarding_applications', 'created_at', 'desc', filter.after));
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}

/**
 * Moves a PENDING application to its outcome; undefined when it was no longer PENDING (another
 * reviewer was first), so that an application is approved once.
 */
export async function decideOnboardingApplication(
  db: Db,
  id: string,
  outcome: { status: 'APPROVED' | 'REJECTED'; reviewedBy: string; reason: string; organizationId?: string; projectId?: string },
): Promise<OnboardingApplicationRow | undefined> {
  return db
    .updateTable('onboarding_applications')
    .set({
      status: outcome.status,
      reviewed_at: new Date(),
      reviewed_by: outcome.reviewedBy,
      reason: outcome.reason,
      organization_id: outcome.organizationId ?? null,
      project_id: outcome.projectId ?? null,
    })
    .where('id', '=', id)
    .where('status', '=', 'PENDING')
    .returningAll()
    .executeTakeFirst();
}

/** Records the signing certificate issued for an approved application, once. */
export async function setOnboardingCertificate(db: Db, id: string, certificateId: string): Promise<OnboardingApplicationRow | undefined> {
  return db
    .updateTable('onboarding_applications')
    .set({ certificate_id: certificateId })
    .where('id', '=', id)
    .where('certificate_id', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** An organization with no member yet: its first owner joins by accepting the invitation. */
export async function insertMemberlessOrganization(db: Db, org: { id: string; name: string }): Promise<OrganizationRow> {
  return db.insertInto('organizations').values({ id: org.id, name: org.name }).returningAll().executeTakeFirstOrThrow();
}
