import type { HandlerContext } from '@connectrpc/connect';
import { invalidArgument, notFound, permissionDenied } from '@c2pa-mesh/errors';
import { callContext, callerIdentity } from './context.js';
import { type Database, type ProjectRow, findProjectById } from '@c2pa-mesh/storage';

/**
 * Tenant isolation. An identity tied to a project (API key, bound certificate) acts only on its
 * own project: naming another project, or an object of another project, answers `not_found`
 * exactly as if it did not exist. Mesh-wide identities (the admin certificate, mesh services)
 * act on any project they name.
 */

/** Files the call under `projectId` in the audit log when the caller itself has no project. */
function attribute(ctx: HandlerContext, projectId: string): void {
  // Calls between mesh services are not the project's own calls: they would count twice in its usage.
  if (callerIdentity(ctx).kind === 'SERVICE') return;
  const call = callContext(ctx);
  call.projectId ??= projectId;
}

/**
 * The project a request acts on: the caller's own (naming another is `not_found`), else the one
 * named; undefined only for mesh-wide callers that named none.
 */
export function requestedProject(ctx: HandlerContext, requested: string): string | undefined {
  const own = callerIdentity(ctx).projectId;
  if (own !== undefined) {
    if (requested !== '' && requested !== own) throw notFound(`no project ${requested}`);
    return own;
  }
  if (requested === '') return undefined;
  attribute(ctx, requested);
  return requested;
}

/** As requestedProject, for requests that must concern exactly one project. */
export function requiredProject(ctx: HandlerContext, requested: string): string {
  const projectId = requestedProject(ctx, requested);
  if (projectId === undefined) throw invalidArgument('project_id is required: this identity is tied to no project, so name one');
  return projectId;
}

/** The named project, which must exist and be visible to the caller. */
export async function existingProject(db: Database, ctx: HandlerContext, requested: string): Promise<ProjectRow> {
  const projectId = requiredProject(ctx, requested);
  const project = await findProjectById(db, projectId);
  if (!project) throw notFound(`no project ${projectId}`);
  return project;
}

/** Refuses (as `not_found`) an object of another project than the caller's. */
export function visibleTo<T extends { project_id: string | null }>(ctx: HandlerContext, row: T | undefined, what: string, id: string): T {
  const own = callerIdentity(ctx).projectId;
  if (!row || (own !== undefined && row.project_id !== own)) throw notFound(`no ${what} ${id}`);
  if (row.project_id !== null) attribute(ctx, row.project_id);
  return row;
}

/** For operations over the whole mesh (creating projects): identities tied to a project may not. */
export function requireMeshWide(ctx: HandlerContext, action: string): void {
  if (callerIdentity(ctx).projectId !== undefined) {
    throw permissionDenied(`${action} needs a mesh-wide administrator (the admin client certificate); this identity is tied to one project`);
  }
}
