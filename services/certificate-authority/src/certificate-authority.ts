import { LRUCache } from 'lru-cache';
import { createMemorySigner, decryptPrivateKey, type KeySigner } from '@c2pa-mesh/key-custody';
import { createOcspResponder, createTimeStampAuthority, type TimeStampAuthority } from '@c2pa-mesh/pki';
import type { CertificateRow, Database } from '@c2pa-mesh/storage';
import { failedPrecondition } from '@c2pa-mesh/errors';
import { createCrlService, type CrlIssuer, type CrlService } from './crl-service.js';
import { DEFAULT_SETTINGS, type CertificateAuthorityDeps, type CertificateAuthoritySettings } from './deps.js';
import { createOcspService, type OcspService } from './ocsp-service.js';
import { createStatusEvents, type StatusChange, type StatusEvents } from './status-events.js';
import { createStatusRowCache, type StatusRowCache } from './status-row-cache.js';

/**
 * The running certificate authority: the OCSP responder, the CRLs and the time-stamp authority,
 * shared by the RPC service and the relying-party endpoints of one process.
 */
export interface CertificateAuthority {
  readonly deps: CertificateAuthorityDeps;
  readonly settings: CertificateAuthoritySettings;
  readonly ocsp: OcspService;
  readonly crl: CrlService;
  readonly tsa: TimeStampAuthority;
  /** Time-stamp requests since start, by outcome (for metrics); `failed`: the TSA threw. */
  readonly tsaCounts: TimeStampCounts;
  /** The CAs that publish CRLs: the C2PA intermediate (signing certificates), the C2PA root, the mesh CA. */
  readonly crlIssuers: { c2pa: CrlIssuer; root: CrlIssuer; mesh: CrlIssuer };
  /** Certificate records for CheckStatus, emptied by every status change. */
  readonly statusRows: StatusRowCache;
  /**
   * Runs `change` in a transaction and makes the status change it returns effective everywhere:
   * announced to other instances on commit, dropped from this instance's caches right after.
   */
  changeStatus(change: (trx: Database) => Promise<CertificateRow>): Promise<CertificateRow>;
  /** The signer of a private key the CA keeps (sealed in the database with the key-encryption key). */
  heldKeySigner(row: CertificateRow): KeySigner;
  /** True while this instance hears every status change (locally always; on PostgreSQL while LISTEN is up). */
  statusChangesHeard(): boolean;
  /** Calls `listener` at every status change heard here, and when changes may have been missed. */
  onStatusChange(listener: () => void): void;
  close(): Promise<void>;
}

export interface TimeStampCounts {
  granted: number;
  rejected: number;
  failed: number;
}

/** The TSA with its outcomes counted: the RPC, the relying-party endpoint and signing all go through it. */
function countedTimeStampAuthority(tsa: TimeStampAuthority, counts: TimeStampCounts): TimeStampAuthority {
  const counted = async <T>(work: Promise<T>, granted: (value: T) => boolean): Promise<T> => {
    try {
      const value = await work;
      if (granted(value)) counts.granted++;
      else counts.rejected++;
      return value;
    } catch (err) {
      counts.failed++;
      throw err;
    }
  };
  return {
    policyOid: tsa.policyOid,
    respond: (requestDer) => counted(tsa.respond(requestDer), (r) => r.status === 'granted'),
    timestamp: (options) => counted(tsa.timestamp(options), () => true),
  };
}

/** Opened CA-held keys; bounded so that a flood of signers cannot grow memory without end. */
const MAX_OPEN_SIGNERS = 1000;
/** Certificate records kept for CheckStatus. */
const STATUS_ROWS_KEPT = 4096;

export function createCertificateAuthority(deps: CertificateAuthorityDeps): CertificateAuthority {
  const settings: CertificateAuthoritySettings = { ...DEFAULT_SETTINGS, ...deps.settings };
  const { db, logger } = deps;

  let ocsp: OcspService | undefined;
  let crl: CrlService | undefined;
  let statusRows: StatusRowCache | undefined;
  const listeners: Array<() => void> = [];
  const forget = (change: StatusChange) => {
    ocsp?.evict(change);
    crl?.invalidate(change.issuerId);
    statusRows?.clear();
    for (const listener of listeners) listener();
  };
  const events: StatusEvents = createStatusEvents({
    databaseUrl: deps.databaseUrl,
    logger,
    listener: {
      changed: forget,
      reset: () => {
        ocsp?.clear();
        crl?.clear();
        statusRows?.clear();
        for (const listener of listeners) listener();
      },
    },
  });
  const caching = () => events.caching;

  ocsp = createOcspService({
    db,
    logger,
    issuers: [
      {
        certificateId: deps.c2paIntermediate.certificateId,
        // The delegated responder (EKU OCSPSigning, ocsp-nocheck) signs for the intermediate.
        responder: createOcspResponder({
          responderCertificateDer: deps.ocspResponder.der,
          signer: deps.ocspResponder.signer,
          issuerCertificateDer: deps.c2paIntermediate.der,
        }),
      },
      {
        certificateId: deps.meshCa.certificateId,
        // The mesh CA answers for its own certificates: it is online anyway, it issues client certificates.
        responder: createOcspResponder({ responderCertificateDer: deps.meshCa.der, signer: deps.meshCa.signer, issuerCertificateDer: deps.meshCa.der }),
      },
    ],
    validitySeconds: settings.ocspValiditySeconds,
    refreshSeconds: settings.ocspRefreshSeconds,
    maxEntries: settings.ocspCacheEntries,
    caching,
  });
  crl = createCrlService({ db, validitySeconds: settings.crlValiditySeconds, caching });
  statusRows = createStatusRowCache({ caching, maxEntries: STATUS_ROWS_KEPT });

  const tsaCounts: TimeStampCounts = { granted: 0, rejected: 0, failed: 0 };
  const tsa = countedTimeStampAuthority(createTimeStampAuthority({
    tsaCertificateDer: deps.timeStampAuthority.der,
    // The intermediate goes into tokens too, so that verifiers holding only the root can chain the TSA.
    chainDer: [deps.c2paIntermediate.der],
    signer: deps.timeStampAuthority.signer,
    policyOid: settings.tsaPolicyOid,
  }), tsaCounts);

  const crlIssuers = {
    c2pa: { certificateId: deps.c2paIntermediate.certificateId, certificateDer: deps.c2paIntermediate.der, signer: deps.c2paIntermediate.signer },
    root: { certificateId: deps.c2paRoot.certificateId, certificateDer: deps.c2paRoot.der, signer: deps.c2paRoot.signer },
    mesh: { certificateId: deps.meshCa.certificateId, certificateDer: deps.meshCa.der, signer: deps.meshCa.signer },
  };

  const signers = new LRUCache<string, KeySigner>({ max: MAX_OPEN_SIGNERS });

  return {
    deps,
    settings,
    ocsp,
    crl,
    tsa,
    tsaCounts,
    crlIssuers,
    statusRows,
    async changeStatus(change) {
      const row = await db.transaction().execute(async (trx) => {
        const changed = await change(trx);
        if (changed.issuer_id) {
          await events.announce(trx, { issuerId: changed.issuer_id, serialNumberHex: changed.serial_number });
        }
        return changed;
      });
      // After the commit: a response signed from now on reads the new status.
      if (row.issuer_id) forget({ issuerId: row.issuer_id, serialNumberHex: row.serial_number });
      else {
        statusRows?.clear();
        for (const listener of listeners) listener();
      }
      return row;
    },
    heldKeySigner(row) {
      const open = signers.get(row.id);
      if (open) return open;
      if (!row.key_held_by_ca || !row.encrypted_private_key) {
        throw failedPrecondition(`the CA does not hold the private key of certificate ${row.id}; its holder signs with it`);
      }
      const pkcs8 = decryptPrivateKey(row.encrypted_private_key, deps.keyEncryptionKey, row.id);
      const signer = createMemorySigner(pkcs8);
      pkcs8.fill(0);
      signers.set(row.id, signer);
      return signer;
    },
    statusChangesHeard: caching,
    onStatusChange(listener) {
      listeners.push(listener);
    },
    close: () => events.close(),
  };
}
