import type { MeshClients } from '@c2pa-mesh/clients';
import type { KeySigner } from '@c2pa-mesh/key-custody';
import type { Database } from '@c2pa-mesh/storage';
import type { Logger } from 'pino';

/** A CA-side certificate whose key is used through the key-custody interface. */
export interface CaEntity {
  certificateId: string;
  der: Uint8Array;
  pem: string;
  signer: KeySigner;
}

export interface CertificateAuthorityDeps {
  db: Database;
  logger: Logger;
  clients: MeshClients;
  meshCa: CaEntity;
  c2paRoot: CaEntity;
  c2paIntermediate: CaEntity;
  ocspResponder: CaEntity;
  timeStampAuthority: CaEntity;
  /** Seals private keys the CA keeps (C2PA signing keys) in the database. */
  keyEncryptionKey: Uint8Array;
  /** Base URL of the relying-party listener, written into AIA and CRL distribution points. */
  pkiPublicUrl: string;
}
