import type { MeshClients } from '@c2pa-mesh/clients';
import type { Database } from '@c2pa-mesh/storage';
import type { WebhookTargetGuard } from './webhook-targets.js';

export interface RegistryServiceDeps {
  db: Database;
  clients: MeshClients;
  /** Seals webhook signing secrets at rest (the same key-encryption key that seals private keys). */
  keyEncryptionKey: Uint8Array;
  /** PEM of the mesh CA: certificates bound to projects must come from it to be of any use. */
  meshCaPem: string;
  /** Which webhook URLs the mesh may send to. */
  webhookTargets: WebhookTargetGuard;
}
