import { LRUCache } from 'lru-cache';
import { create } from '@bufbuild/protobuf';
import { readCertificateSummary, toPem } from '@c2pa-mesh/pki';
import { certificateAuthorityV1 } from '@c2pa-mesh/proto';
import { type CertificateRow, type Database, insertCertificate, newId } from '@c2pa-mesh/storage';

export type CertificateStatus = 'PENDING' | 'ACTIVE' | 'REVOKED' | 'EXPIRED';

export interface RecordCertificateOptions {
  /** Chosen before issuance when the private key is sealed with the id as associated data. */
  id?: string;
  der: Uint8Array;
  profile: string;
  issuerId: string | null;
  projectId?: string | null;
  status: 'ACTIVE' | 'PENDING';
  /** Intermediates above the certificate, leaf excluded, root excluded (PEM). */
  chainPem: string;
  keyHeldByCa: boolean;
  encryptedPrivateKey?: Uint8Array | null;
  isDefaultSigner?: boolean;
}

/** Stores an issued certificate with the facts read back from its DER (never from the request). */
export async function recordCertificate(db: Database, options: RecordCertificateOptions): Promise<CertificateRow> {
  const info = readCertificateSummary(options.der);
  const row = await insertCertificate(db, {
    id: options.id ?? newId('crt'),
    serial_number: info.serialNumberHex,
    issuer_id: options.issuerId,
    profile: options.profile,
    subject: info.subject.text,
    common_name: info.subject.commonName ?? '',
    organization: info.subject.organization ?? '',
    key_algorithm: info.keyAlgorithm,
    project_id: options.projectId ?? null,
    status: options.status,
    certificate_der: options.der,
    chain_pem: options.chainPem,
    spki_sha256: info.spkiSha256Hex,
    san_uris: JSON.stringify(info.sanUris),
    key_held_by_ca: options.keyHeldByCa,
    encrypted_private_key: options.encryptedPrivateKey ?? null,
    is_default_signer: options.isDefaultSigner ?? false,
    not_before: info.notBefore,
    not_after: info.notAfter,
    activated_at: options.status === 'ACTIVE' ? new Date() : null,
  });
  rememberSans(row.id, { dns: info.sanDns, ips: info.sanIps });
  return row;
}

/** The status a caller sees: EXPIRED is derived from the validity period, never stored. */
export function certificateStatus(row: Pick<CertificateRow, 'status' | 'not_after'>, now = new Date()): CertificateStatus {
  if (row.status === 'REVOKED') return 'REVOKED';
  if (row.not_after.getTime() <= now.getTime()) return 'EXPIRED';
  return row.status as CertificateStatus;
}

/** DNS and IP SANs have no columns: read from the DER once per certificate (it never changes). */
const SAN_CACHE_ENTRIES = 10_000;
const sanCache = new LRUCache<string, { dns: string[]; ips: string[] }>({ max: SAN_CACHE_ENTRIES });

function rememberSans(id: string, sans: { dns: string[]; ips: string[] }): void {
  sanCache.set(id, sans);
}

function dnsAndIpSans(row: CertificateRow): { dns: string[]; ips: string[] } {
  let sans = sanCache.get(row.id);
  if (!sans) {
    const info = readCertificateSummary(row.certificate_der);
    sans = { dns: info.sanDns, ips: info.sanIps };
    rememberSans(row.id, sans);
  }
  return sans;
}

export function toCertificateMessage(row: CertificateRow): certificateAuthorityV1.Certificate {
  const sans = dnsAndIpSans(row);
  return create(certificateAuthorityV1.CertificateSchema, {
    certificateId: row.id,
    serialNumber: row.serial_number,
    certificatePem: toPem(row.certificate_der),
    chainPem: row.chain_pem,
    status: certificateStatus(row),
    notBefore: row.not_before.toISOString(),
    notAfter: row.not_after.toISOString(),
    profile: row.profile,
    subject: row.subject,
    commonName: row.common_name,
    keyAlgorithm: row.key_algorithm,
    projectId: row.project_id ?? '',
    keyHeldByCa: row.key_held_by_ca,
    revokedAt: row.revoked_at?.toISOString() ?? '',
    revocationReason: row.revocation_reason ?? 0,
    issuedAt: row.issued_at.toISOString(),
    spkiSha256: row.spki_sha256,
    sanUris: row.san_uris,
    sanDns: sans.dns,
    sanIps: sans.ips,
    isDefaultSigner: row.is_default_signer,
  });
}
