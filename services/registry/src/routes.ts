import type { ServiceImpl } from '@connectrpc/connect';
import type { MeshClients } from '@c2pa-mesh/clients';
import { unimplemented } from '@c2pa-mesh/errors';
import type { RegistryService } from '@c2pa-mesh/proto';
import type { Database } from '@c2pa-mesh/storage';

export interface RegistryServiceDeps {
  db: Database;
  clients: MeshClients;
}

/** The full RegistryService: every RPC is listed here, so a missing one does not compile. */
export function createRegistryService(_deps: RegistryServiceDeps): ServiceImpl<typeof RegistryService> {
  return {
    createProject: () => {
      throw unimplemented('CreateProject');
    },
    getProject: () => {
      throw unimplemented('GetProject');
    },
    listProjects: () => {
      throw unimplemented('ListProjects');
    },
    updateProject: () => {
      throw unimplemented('UpdateProject');
    },
    createApiKey: () => {
      throw unimplemented('CreateApiKey');
    },
    listApiKeys: () => {
      throw unimplemented('ListApiKeys');
    },
    getApiKey: () => {
      throw unimplemented('GetApiKey');
    },
    updateApiKey: () => {
      throw unimplemented('UpdateApiKey');
    },
    rotateApiKey: () => {
      throw unimplemented('RotateApiKey');
    },
    revokeApiKey: () => {
      throw unimplemented('RevokeApiKey');
    },
    createClientBinding: () => {
      throw unimplemented('CreateClientBinding');
    },
    listClientBindings: () => {
      throw unimplemented('ListClientBindings');
    },
    deleteClientBinding: () => {
      throw unimplemented('DeleteClientBinding');
    },
    registerAsset: () => {
      throw unimplemented('RegisterAsset');
    },
    getAsset: () => {
      throw unimplemented('GetAsset');
    },
    listAssets: () => {
      throw unimplemented('ListAssets');
    },
    updateAsset: () => {
      throw unimplemented('UpdateAsset');
    },
    deleteAsset: () => {
      throw unimplemented('DeleteAsset');
    },
    lookupAssetByHash: () => {
      throw unimplemented('LookupAssetByHash');
    },
    recordVerification: () => {
      throw unimplemented('RecordVerification');
    },
    queryVerifications: () => {
      throw unimplemented('QueryVerifications');
    },
    listAuditEvents: () => {
      throw unimplemented('ListAuditEvents');
    },
    getUsageStats: () => {
      throw unimplemented('GetUsageStats');
    },
    createWebhook: () => {
      throw unimplemented('CreateWebhook');
    },
    listWebhooks: () => {
      throw unimplemented('ListWebhooks');
    },
    deleteWebhook: () => {
      throw unimplemented('DeleteWebhook');
    },
    listWebhookDeliveries: () => {
      throw unimplemented('ListWebhookDeliveries');
    },
  };
}
