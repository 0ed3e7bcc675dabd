import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { accountV1 } from '@c2pa-mesh/proto';

/** A project a person reaches through one of their organizations, with what their role lets them do there. */
export interface ReachableProject {
  projectId: string;
  name: string;
  organizationId: string;
  organizationName: string;
  role: string;
  scopes: string[];
}

/**
 * Who is signed in, as far as the page needs to know to offer only what will work: the admin
 * (mesh-wide, every scope) or a person (their organizations, and per project the scopes of their
 * role). The mesh checks every call anyway; this only spares people buttons that would be refused.
 */
export interface Access {
  account: boolean;
  organizations: accountV1.Organization[];
  projects: ReachableProject[];
  /** The project the person's calls act on now ('' for the admin). */
  project: string;
  /** Whether the signed-in identity holds `scope` on the current project. */
  can(scope: string): boolean;
  /** Loads the organizations again (after a change to them). */
  reload(): void;
}

export function accessOf(organizations: accountV1.Organization[] | undefined, project: string, reload: () => void): Access {
  if (organizations === undefined) return { account: false, organizations: [], projects: [], project: '', can: () => true, reload };
  const projects = organizations.flatMap((org) =>
    org.projects.map((p) => ({ projectId: p.projectId, name: p.name, organizationId: org.organizationId, organizationName: org.name, role: org.role, scopes: org.scopes })),
  );
  const current = projects.find((p) => p.projectId === project);
  return {
    account: true,
    organizations,
    projects,
    project,
    can: (scope) => current !== undefined && (current.scopes.includes(scope) || current.scopes.includes('admin')),
    reload,
  };
}

export const AccessContext = createContext<Access>(accessOf(undefined, '', () => {}));

export const useAccess = () => useContext(AccessContext);
