import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { invalidArgument, notFound } from '@c2pa-mesh/errors';
import { productCertificateV1 } from '@c2pa-mesh/proto';
import { requiredProject, visibleTo } from '@c2pa-mesh/server';
import { pageOf, pageRequest } from '@c2pa-mesh/storage';
import { findAssetById, findProjectById, findProductCertificate, listProductCertificates, listProductCertificateKeys, listPublishedProductCertificateKeys } from '@c2pa-mesh/storage';
import { parseAssetUrl, parseAuthorizedDomains, parseBoundFields } from './bound-fields.js';
import { fullCertificate } from './certificate-document.js';
import { changeCertificateStatus, isImageId, issueProductCertificate, reissueProductCertificate } from './certification.js';
import type { ProductCertificateDeps } from './deps.js';
import { loadFacts } from './facts.js';
import { toProductCertificate, toProofKey } from './messages.js';
import { parseProofAlgorithm } from './proof-keys.js';
import { normalizeDomain } from '@c2pa-mesh/mc4p';

async function visibleCertificate(deps: ProductCertificateDeps, ctx: HandlerContext, imageId: string) {
  if (imageId === '') throw invalidArgument('image_id is required');
  const id = imageId.trim().toLowerCase();
  // Not a UUID: no certificate has that id (answered as any unknown id is).
  const row = isImageId(id) ? await findProductCertificate(deps.db, id) : undefined;
  return visibleTo(ctx, row, 'product certificate', imageId);
}

async function visibleAsset(deps: ProductCertificateDeps, ctx: HandlerContext, assetId: string) {
  if (assetId === '') throw invalidArgument('asset_id is required');
  return visibleTo(ctx, await findAssetById(deps.db, assetId), 'asset', assetId);
}

export async function createProductCertificate(deps: ProductCertificateDeps, req: productCertificateV1.CreateProductCertificateRequest, ctx: HandlerContext) {
  const authorizedDomains = parseAuthorizedDomains(req.authorizedDomains);
  const boundFields = parseBoundFields(req.boundFields);
  const assetUrl = parseAssetUrl(req.assetUrl);
  const asset = await visibleAsset(deps, ctx, req.assetId);
  const row = await issueProductCertificate(deps, { projectId: asset.project_id, asset, authorizedDomains, boundFields, assetUrl });
  const facts = await loadFacts(deps, row);
  return create(productCertificateV1.CreateProductCertificateResponseSchema, {
    imageId: row.id,
    certificateJson: JSON.stringify(fullCertificate(facts)),
    certificate: toProductCertificate(facts),
  });
}

export async function getProductCertificate(deps: ProductCertificateDeps, req: productCertificateV1.GetProductCertificateRequest, ctx: HandlerContext) {
  const row = await visibleCertificate(deps, ctx, req.imageId);
  return create(productCertificateV1.GetProductCertificateResponseSchema, { certificate: toProductCertificate(await loadFacts(deps, row)) });
}

export async function listProductCertificatesHandler(deps: ProductCertificateDeps, req: productCertificateV1.ListProductCertificatesRequest, ctx: HandlerContext) {
  const page = pageRequest(req);
  const projectId = requiredProject(ctx, req.projectId);
  const rows = await listProductCertificates(deps.db, { projectId, assetId: req.assetId === '' ? undefined : req.assetId, after: page.after, limit: page.fetch });
  const { rows: kept, nextPageToken } = pageOf(rows, page, (r) => r.issued_at);
  const certificates = [];
  for (const row of kept) certificates.push(toProductCertificate(await loadFacts(deps, row)));
  return create(productCertificateV1.ListProductCertificatesResponseSchema, { certificates, nextPageToken });
}

export async function updateProductCertificateHandler(deps: ProductCertificateDeps, req: productCertificateV1.UpdateProductCertificateRequest, ctx: HandlerContext) {
  const authorizedDomains = req.authorizedDomains.length > 0 ? parseAuthorizedDomains(req.authorizedDomains) : undefined;
  if (!req.replaceBoundFields && Object.keys(req.boundFields).length > 0) {
    throw invalidArgument('bound_fields replace the certificate\'s fields as a whole: set replace_bound_fields to true to do so');
  }
  const boundFields = req.replaceBoundFields ? parseBoundFields(req.boundFields) : undefined;
  const current = await visibleCertificate(deps, ctx, req.imageId);
  const asset = await findAssetById(deps.db, current.asset_id);
  if (!asset) throw notFound(`the asset of product certificate ${current.id} is gone`);
  const row = await reissueProductCertificate(deps, current, asset, { authorizedDomains, boundFields });
  return create(productCertificateV1.UpdateProductCertificateResponseSchema, { certificate: toProductCertificate(await loadFacts(deps, row)) });
}

export async function setProductCertificateStatus(deps: ProductCertificateDeps, imageId: string, ctx: HandlerContext, status: 'ACTIVE' | 'PAUSED' | 'REVOKED') {
  const current = await visibleCertificate(deps, ctx, imageId);
  const row = await changeCertificateStatus(deps, current, status);
  return toProductCertificate(await loadFacts(deps, row));
}

export async function rotateProofKey(deps: ProductCertificateDeps, req: productCertificateV1.RotateProofKeyRequest) {
  const algorithm = parseProofAlgorithm(req.algorithm);
  const row = await deps.keys.rotate(algorithm);
  deps.logger.info({ kid: row.kid, algorithm }, 'product-certificate proof key rotated');
  return create(productCertificateV1.RotateProofKeyResponseSchema, { key: toProofKey(row, true) });
}

export async function listProofKeys(deps: ProductCertificateDeps) {
  await deps.keys.activeKey();
  const [rows, published] = await Promise.all([listProductCertificateKeys(deps.db), listPublishedProductCertificateKeys(deps.db)]);
  const publishedKids = new Set(published.map((r) => r.kid));
  return create(productCertificateV1.ListProofKeysResponseSchema, { keys: rows.map((row) => toProofKey(row, publishedKids.has(row.kid))) });
}

function requestedDomain(value: string): string {
  const domain = normalizeDomain(value);
  if (domain === undefined) throw invalidArgument(`domain must be a host name such as merchant.example (no scheme, path or port), got "${value.slice(0, 100)}"`);
  return domain;
}

export async function startDomainVerification(deps: ProductCertificateDeps, req: productCertificateV1.StartDomainVerificationRequest, ctx: HandlerContext) {
  const domain = requestedDomain(req.domain);
  const project = await existingProject(deps, ctx, req.projectId);
  const challenge = await deps.domains.challenge(project, domain);
  return create(productCertificateV1.StartDomainVerificationResponseSchema, challenge);
}

export async function checkDomainVerification(deps: ProductCertificateDeps, req: productCertificateV1.CheckDomainVerificationRequest, ctx: HandlerContext) {
  const domain = requestedDomain(req.domain);
  const project = await existingProject(deps, ctx, req.projectId);
  const result = await deps.domains.check(project, domain);
  return create(productCertificateV1.CheckDomainVerificationResponseSchema, {
    domain,
    verified: result.verified,
    method: result.method ?? '',
    verifiedAt: result.verifiedAt?.toISOString() ?? '',
    problems: result.problems,
  });
}

async function existingProject(deps: ProductCertificateDeps, ctx: HandlerContext, requested: string): Promise<string> {
  const projectId = requiredProject(ctx, requested);
  if (!(await findProjectById(deps.db, projectId))) throw notFound(`no project ${projectId}`);
  return projectId;
}
