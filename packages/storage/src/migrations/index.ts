import type { Migration } from 'kysely';
import * as initial from './2026-11-23T0001-initial.js';
import * as registry from './2026-11-24T0001-registry.js';
import * as productCertificates from './2026-12-06T0001-product-certificates.js';
import * as transparencyLog from './2026-12-06T0101-transparency-log.js';
import * as softBindings from './2026-12-06T0201-soft-bindings.js';
import * as accounts from './2026-12-06T0301-accounts.js';
import * as organizations from './2026-12-06T0302-organizations.js';
import * as consoleSessions from './2026-12-06T0401-console-sessions.js';
import * as onboardingApplications from './2026-12-06T1001-onboarding-applications.js';
import * as consoleAccountSessions from './2026-12-06T1101-console-account-sessions.js';
import * as softBindingXid from './2026-12-06T0701-soft-binding-xid.js';
import * as signInProviders from './2026-12-06T1201-sign-in-providers.js';

/** Every migration, by its sortable name. Add new ones here; never edit a landed one. */
export const migrations: Record<string, Migration> = {
  '2026-11-23T0001-initial': initial,
  '2026-11-24T0001-registry': registry,
  '2026-12-06T0001-product-certificates': productCertificates,
  '2026-12-06T0101-transparency-log': transparencyLog,
  '2026-12-06T0201-soft-bindings': softBindings,
  '2026-12-06T0301-accounts': accounts,
  '2026-12-06T0302-organizations': organizations,
  '2026-12-06T0401-console-sessions': consoleSessions,
  '2026-12-06T0701-soft-binding-xid': softBindingXid,
  '2026-12-06T1001-onboarding-applications': onboardingApplications,
  '2026-12-06T1101-console-account-sessions': consoleAccountSessions,
  '2026-12-06T1201-sign-in-providers': signInProviders,
};
