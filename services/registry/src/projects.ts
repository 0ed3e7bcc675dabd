import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { alreadyExists, invalidArgument, notFound } from '@c2pa-mesh/errors';
import { registryV1 } from '@c2pa-mesh/proto';
import { findCertificateById, findProjectByName, insertProject, listProjects, newId, updateProject, type Database } from '@c2pa-mesh/storage';
import { existingProject, requestedProject, requireMeshWide } from '@c2pa-mesh/server';
import type { RegistryServiceDeps } from './deps.js';
import { toProject } from './messages.js';
import { pageOf, pageRequest } from '@c2pa-mesh/storage';
import { boundedText, displayName } from './validation.js';

const UNIQUE_VIOLATION = '23505';

function nameTaken(name: string, cause?: unknown) {
  return alreadyExists(`a project named "${name}" already exists; project names are unique (ignoring case)`, { cause });
}

/** A signer named as a project's default must be a C2PA signing certificate the project may use. */
async function checkDefaultSigner(db: Database, signerId: string, projectId: string | undefined): Promise<void> {
  if (signerId === '') return;
  const signer = await findCertificateById(db, signerId);
  if (!signer || signer.profile !== 'C2PA_SIGNING' || !signer.key_held_by_ca || (signer.project_id !== null && signer.project_id !== projectId)) {
    throw notFound(`no signer ${signerId} this project may use; ListSigners shows the signers available`);
  }
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown })?.code === UNIQUE_VIOLATION;
}

export async function createProject(deps: RegistryServiceDeps, req: registryV1.CreateProjectRequest, ctx: HandlerContext) {
  const name = displayName(req.name, 'name');
  const description = boundedText(req.description, 'description', 2000);
  requireMeshWide(ctx, 'CreateProject');
  if (await findProjectByName(deps.db, name)) throw nameTaken(name);
  await checkDefaultSigner(deps.db, req.defaultSignerId, undefined);
  const row = await insertProject(deps.db, { id: newId('prj'), name, description, defaultSignerId: req.defaultSignerId || null }).catch((err) => {
    // Two creations with the same name at once: the unique index decides.
    if (isUniqueViolation(err)) throw nameTaken(name, err);
    throw err;
  });
  requestedProject(ctx, row.id);
  return create(registryV1.CreateProjectResponseSchema, { projectId: row.id, project: toProject(row) });
}

export async function getProject(deps: RegistryServiceDeps, req: registryV1.GetProjectRequest, ctx: HandlerContext) {
  const project = await existingProject(deps.db, ctx, req.projectId);
  return create(registryV1.GetProjectResponseSchema, { project: toProject(project) });
}

export async function listProjectsHandler(deps: RegistryServiceDeps, req: registryV1.ListProjectsRequest, ctx: HandlerContext) {
  const page = pageRequest(req);
  const rows = await listProjects(deps.db, { id: requestedProject(ctx, ''), after: page.after, limit: page.fetch });
  const { rows: projects, nextPageToken } = pageOf(rows, page, (r) => r.created_at);
  return create(registryV1.ListProjectsResponseSchema, { projects: projects.map(toProject), nextPageToken });
}

export async function updateProjectHandler(deps: RegistryServiceDeps, req: registryV1.UpdateProjectRequest, ctx: HandlerContext) {
  if (req.projectId === '') throw invalidArgument('project_id is required');
  const project = await existingProject(deps.db, ctx, req.projectId);
  const name = req.name !== undefined ? displayName(req.name, 'name') : undefined;
  const description = req.description !== undefined ? boundedText(req.description, 'description', 2000) : undefined;
  if (name !== undefined && name.toLowerCase() !== project.name.toLowerCase()) {
    const other = await findProjectByName(deps.db, name);
    if (other && other.id !== project.id) throw nameTaken(name);
  }
  if (req.defaultSignerId !== undefined) await checkDefaultSigner(deps.db, req.defaultSignerId, project.id);
  const row = await updateProject(deps.db, project.id, {
    name,
    description,
    defaultSignerId: req.defaultSignerId === undefined ? undefined : req.defaultSignerId || null,
  }).catch((err) => {
    if (isUniqueViolation(err) && name !== undefined) throw nameTaken(name, err);
    throw err;
  });
  if (!row) throw notFound(`no project ${project.id}`);
  return create(registryV1.UpdateProjectResponseSchema, { project: toProject(row) });
}
