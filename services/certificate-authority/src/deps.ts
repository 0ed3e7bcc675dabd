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
  /**
   * `postgres://…` when instances share a PostgreSQL database: status changes are then announced
   * to every instance (LISTEN/NOTIFY) so that their OCSP and CRL caches drop them at once.
   * Undefined on the embedded database, which only one process opens.
   */
  databaseUrl?: string;
  /** Tuning and policy; the defaults suit production. */
  settings?: Partial<CertificateAuthoritySettings>;
}

export interface CertificateAuthoritySettings {
  /** nextUpdate − thisUpdate of OCSP responses. */
  ocspValiditySeconds: number;
  /** Pre-signed OCSP responses are re-signed after this long, so that thisUpdate stays recent. */
  ocspRefreshSeconds: number;
  /** Upper bound of Cache-Control max-age on GET /ocsp responses (RFC 5019 §6.2 allows any value before nextUpdate). */
  ocspHttpMaxAgeSeconds: number;
  /** Most pre-signed OCSP responses kept in memory. */
  ocspCacheEntries: number;
  /** nextUpdate − thisUpdate of CRLs. */
  crlValiditySeconds: number;
  /** The TSA policy every time-stamp token is issued under. */
  tsaPolicyOid: string;
}

/**
 * The TSA policy: an OID under the UUID arc 2.25 (ITU-T X.667), unique without registration.
 * Derived from the UUID 3c1e1c43-6b52-4f4e-9a37-6c2f0e8d7a15.
 */
export const DEFAULT_TSA_POLICY_OID = `2.25.${BigInt('0x3c1e1c436b524f4e9a376c2f0e8d7a15').toString()}`;

export const DEFAULT_SETTINGS: CertificateAuthoritySettings = {
  ocspValiditySeconds: 24 * 3600,
  ocspRefreshSeconds: 3600,
  ocspHttpMaxAgeSeconds: 300,
  ocspCacheEntries: 50_000,
  crlValiditySeconds: 24 * 3600,
  tsaPolicyOid: DEFAULT_TSA_POLICY_OID,
};
