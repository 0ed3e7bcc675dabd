import type { ServiceImpl } from '@connectrpc/connect';
import type { RegistryService } from '@c2pa-mesh/proto';
import { createApiKey, getApiKey, listApiKeysHandler, revokeApiKeyHandler, rotateApiKeyHandler, updateApiKey } from './api-keys.js';
import { deleteAsset, getAsset, listAssetsHandler, lookupAssetByHash, registerAsset, updateAsset } from './assets.js';
import { listAuditEventsHandler } from './audit-events.js';
import { createClientBinding, deleteClientBindingHandler, listClientBindingsHandler } from './client-bindings.js';
import type { RegistryServiceDeps } from './deps.js';
import { createProject, getProject, listProjectsHandler, updateProjectHandler } from './projects.js';
import { findSoftBindingMatchesHandler, getStoredManifestHandler } from './soft-bindings.js';
import { getUsageStats } from './usage-stats.js';
import { queryVerificationsHandler, recordVerification } from './verifications.js';
import { createWebhook, deleteWebhookHandler, listWebhookDeliveriesHandler, listWebhooksHandler } from './webhooks.js';

export type { RegistryServiceDeps } from './deps.js';

/** The full RegistryService: every RPC is listed here, so a missing one does not compile. */
export function createRegistryService(deps: RegistryServiceDeps): ServiceImpl<typeof RegistryService> {
  return {
    createProject: (req, ctx) => createProject(deps, req, ctx),
    getProject: (req, ctx) => getProject(deps, req, ctx),
    listProjects: (req, ctx) => listProjectsHandler(deps, req, ctx),
    updateProject: (req, ctx) => updateProjectHandler(deps, req, ctx),
    createApiKey: (req, ctx) => createApiKey(deps, req, ctx),
    listApiKeys: (req, ctx) => listApiKeysHandler(deps, req, ctx),
    getApiKey: (req, ctx) => getApiKey(deps, req, ctx),
    updateApiKey: (req, ctx) => updateApiKey(deps, req, ctx),
    rotateApiKey: (req, ctx) => rotateApiKeyHandler(deps, req, ctx),
    revokeApiKey: (req, ctx) => revokeApiKeyHandler(deps, req, ctx),
    createClientBinding: (req, ctx) => createClientBinding(deps, req, ctx),
    listClientBindings: (req, ctx) => listClientBindingsHandler(deps, req, ctx),
    deleteClientBinding: (req, ctx) => deleteClientBindingHandler(deps, req, ctx),
    registerAsset: (req, ctx) => registerAsset(deps, req, ctx),
    getAsset: (req, ctx) => getAsset(deps, req, ctx),
    listAssets: (req, ctx) => listAssetsHandler(deps, req, ctx),
    updateAsset: (req, ctx) => updateAsset(deps, req, ctx),
    deleteAsset: (req, ctx) => deleteAsset(deps, req, ctx),
    lookupAssetByHash: (req, ctx) => lookupAssetByHash(deps, req, ctx),
    recordVerification: (req, ctx) => recordVerification(deps, req, ctx),
    queryVerifications: (req, ctx) => queryVerificationsHandler(deps, req, ctx),
    listAuditEvents: (req, ctx) => listAuditEventsHandler(deps, req, ctx),
    getUsageStats: (req, ctx) => getUsageStats(deps, req, ctx),
    createWebhook: (req, ctx) => createWebhook(deps, req, ctx),
    listWebhooks: (req, ctx) => listWebhooksHandler(deps, req, ctx),
    deleteWebhook: (req, ctx) => deleteWebhookHandler(deps, req, ctx),
    listWebhookDeliveries: (req, ctx) => listWebhookDeliveriesHandler(deps, req, ctx),
    findSoftBindingMatches: (req, ctx) => findSoftBindingMatchesHandler(deps, req, ctx),
    getStoredManifest: (req, ctx) => getStoredManifestHandler(deps, req, ctx),
  };
}
