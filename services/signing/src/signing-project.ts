import type { Identity } from '@c2pa-mesh/auth';
import type { MeshClients } from '@c2pa-mesh/clients';
import { dependencyError, invalidArgument, notFound } from '@c2pa-mesh/errors';
import { Code, ConnectError } from '@connectrpc/connect';

export interface SigningProject {
  projectId: string;
  /** The project's own default signer; empty: the mesh's default signer. */
  defaultSignerId: string;
}

/**
 * The project a signed asset or hash record belongs to: the caller's own (an API key or a bound
 * client certificate acts for exactly one), or, for identities tied to no project (the admin),
 * the one the request names. It must exist: the registry records every signature under a project.
 */
export async function resolveSigningProject(clients: MeshClients, identity: Identity, requestedProjectId: string): Promise<SigningProject> {
  const requested = requestedProjectId.trim();
  let projectId: string;
  if (identity.projectId !== undefined) {
    // Another project is reported exactly as the registry reports a missing one: a project's
    // key learns nothing about other tenants.
    if (requested !== '' && requested !== identity.projectId) throw notFound(`no project ${requested}`, { details: { field: 'project_id' } });
    projectId = identity.projectId;
  } else {
    if (requested === '') {
      throw invalidArgument('project_id is required: this identity acts for no project, so name the project to register the signature under', {
        details: { field: 'project_id' },
      });
    }
    projectId = requested;
  }
  const { project } = await clients.registry.getProject({ projectId }).catch((error: unknown) => {
    if (error instanceof ConnectError && error.code === Code.NotFound) {
      throw notFound(`no project ${projectId}`, { cause: error, details: { field: 'project_id' } });
    }
    throw dependencyError(error, `the registry could not read project ${projectId}`, { keep: ['failed_precondition', 'not_found'] });
  });
  if (project === undefined) throw notFound(`no project ${projectId}`, { details: { field: 'project_id' } });
  return { projectId: project.projectId || projectId, defaultSignerId: project.defaultSignerId };
}
