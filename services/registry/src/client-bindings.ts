import { createHash, X509Certificate } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { MESH_SPIFFE_PREFIX } from '@c2pa-mesh/auth';
import { invalidArgument } from '@c2pa-mesh/errors';
import { registryV1 } from '@c2pa-mesh/proto';
import { deleteClientBinding, findClientBindingById, insertClientBinding, listClientBindings, newId } from '@c2pa-mesh/storage';
import { existingProject, requiredProject, visibleTo } from '@c2pa-mesh/server';
import type { RegistryServiceDeps } from './deps.js';
import { toClientBinding } from './messages.js';
import { pageOf, pageRequest } from '@c2pa-mesh/storage';
import { boundedText, parseScopes, requiredId } from './validation.js';

/** SHA-256 of the DER SubjectPublicKeyInfo: the same fingerprint the listener computes per connection. */
function spkiFingerprint(certificate: X509Certificate): string {
  return createHash('sha256').update(certificate.publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

function fromCertificatePem(pem: string, meshCaPem: string): string {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (cause) {
    throw invalidArgument('certificate_pem is not a PEM certificate ("-----BEGIN CERTIFICATE-----" …)', { cause });
  }
  const meshCa = new X509Certificate(meshCaPem);
  // Only certificates from the mesh CA get through the TLS listener: binding any other would do nothing.
  if (!certificate.checkIssued(meshCa) || !certificate.verify(meshCa.publicKey)) {
    throw invalidArgument('certificate_pem was not issued by the mesh CA, so it could never connect; issue a MESH_CLIENT certificate with IssueCertificate');
  }
  return spkiFingerprint(certificate);
}

function parseSanUri(value: string): string {
  try {
    new URL(value);
  } catch (cause) {
    throw invalidArgument(`san_uri must be a URI such as spiffe://c2pa-mesh/client/newsroom, got "${value}"`, { cause });
  }
  if (value.startsWith(`${MESH_SPIFFE_PREFIX}admin`) || value.startsWith(`${MESH_SPIFFE_PREFIX}service/`)) {
    throw invalidArgument(`san_uri ${value} names one of the mesh's own identities, whose scopes are fixed; choose another URI`);
  }
  // Compared byte for byte with the certificate's URI SAN, so kept exactly as given.
  return value;
}

export async function createClientBinding(deps: RegistryServiceDeps, req: registryV1.CreateClientBindingRequest, ctx: HandlerContext) {
  const scopes = parseScopes(req.scopes);
  const name = boundedText(req.name.trim(), 'name', 100);
  const match = req.certificateMatch;
  let spkiSha256: string | null = null;
  let sanUri: string | null = null;
  switch (match.case) {
    case 'spkiSha256':
      if (!/^[0-9a-fA-F]{64}$/.test(match.value)) throw invalidArgument('spki_sha256 must be 64 hex digits (SHA-256 of the DER SubjectPublicKeyInfo)');
      spkiSha256 = match.value.toLowerCase();
      break;
    case 'sanUri':
      sanUri = parseSanUri(match.value);
      break;
    case 'certificatePem':
      spkiSha256 = fromCertificatePem(match.value, deps.meshCaPem);
      break;
    default:
      throw invalidArgument('name the certificates to bind: set spki_sha256, san_uri or certificate_pem');
  }
  const project = await existingProject(deps.db, ctx, req.projectId);
  const row = await insertClientBinding(deps.db, { id: newId('bnd'), projectId: project.id, name, spkiSha256, sanUri, scopes });
  return create(registryV1.CreateClientBindingResponseSchema, { binding: toClientBinding(row) });
}

export async function listClientBindingsHandler(deps: RegistryServiceDeps, req: registryV1.ListClientBindingsRequest, ctx: HandlerContext) {
  const page = pageRequest(req);
  const projectId = requiredProject(ctx, req.projectId);
  const rows = await listClientBindings(deps.db, { projectId, after: page.after, limit: page.fetch });
  const { rows: bindings, nextPageToken } = pageOf(rows, page, (r) => r.created_at);
  return create(registryV1.ListClientBindingsResponseSchema, { bindings: bindings.map(toClientBinding), nextPageToken });
}

export async function deleteClientBindingHandler(deps: RegistryServiceDeps, req: registryV1.DeleteClientBindingRequest, ctx: HandlerContext) {
  requiredId(req.bindingId, 'binding_id');
  const binding = visibleTo(ctx, await findClientBindingById(deps.db, req.bindingId), 'client binding', req.bindingId);
  await deleteClientBinding(deps.db, binding.id);
  return create(registryV1.DeleteClientBindingResponseSchema, {});
}
