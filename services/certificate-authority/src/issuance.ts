import { randomBytes } from 'node:crypto';
import { MeshError } from '@c2pa-mesh/errors';
import { encryptPrivateKey, generateKeyPair, type KeyAlgorithm } from '@c2pa-mesh/key-custody';
import { buildPkcs12, issueCertificate, toPem, type DistinguishedName, type SubjectAltNames } from '@c2pa-mesh/pki';
import { type CertificateRow, type Database, bindCertificateToProject, newId } from '@c2pa-mesh/storage';
import type { CertificateAuthority } from './certificate-authority.js';
import { recordCertificate } from './certificate-records.js';

export type IssuableProfile = 'C2PA_SIGNING' | 'MESH_CLIENT' | 'MESH_SERVER';

/** A validated issuance request: everything the CA needs, nothing left to check. */
export interface IssuancePlan {
  profile: IssuableProfile;
  subject: DistinguishedName;
  san: SubjectAltNames;
  /** The requester's key (from a verified CSR); absent: the CA generates one of `keyAlgorithm`. */
  subjectPublicKeySpki?: Uint8Array;
  keyAlgorithm: KeyAlgorithm;
  validityDays: number;
  projectId: string | null;
  requireActivation: boolean;
  /** Scopes of the client binding made for a MESH_CLIENT certificate bound to a project. */
  bindingScopes: string[];
  /** For a generated MESH_* key: the PKCS#12 password (generated when absent). */
  pkcs12Password?: string;
}

export interface IssuanceResult {
  row: CertificateRow;
  /** PKCS#8 PEM of a generated mesh key: returned once, stored nowhere. */
  privateKeyPem?: string;
  pkcs12?: Uint8Array;
  pkcs12Password?: string;
}

/** Attempts at a fresh serial when one collides with an existing certificate (2^-127 odds, but unique is unique). */
const SERIAL_ATTEMPTS = 3;

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

/** A MESH_CLIENT certificate that authenticates for a project from the moment it is ACTIVE. */
export async function bindIfClient(trx: Parameters<typeof bindCertificateToProject>[0], row: CertificateRow, scopes: readonly string[]): Promise<void> {
  if (row.profile !== 'MESH_CLIENT' || !row.project_id || row.status !== 'ACTIVE' || scopes.length === 0) return;
  await bindCertificateToProject(trx, { id: newId('cbd'), projectId: row.project_id, name: row.common_name, spkiSha256: row.spki_sha256, scopes });
}

/**
 * Issues a certificate as planned: C2PA signing certificates from the C2PA intermediate (with
 * AIA and CRL distribution point; a generated key is sealed and kept by the CA), mesh client and
 * server certificates from the mesh CA (a generated key is returned once, never stored).
 */
export async function issue(ca: CertificateAuthority, plan: IssuancePlan): Promise<IssuanceResult> {
  const { deps } = ca;
  const c2pa = plan.profile === 'C2PA_SIGNING';
  const issuer = c2pa ? deps.c2paIntermediate : deps.meshCa;
  const generated = plan.subjectPublicKeySpki ? undefined : await generateKeyPair(plan.keyAlgorithm);
  const spki = plan.subjectPublicKeySpki ?? generated!.signer.publicKeySpki;
  const urls = c2pa
    ? { ocspUrl: `${deps.pkiPublicUrl}/ocsp`, caIssuersUrl: `${deps.pkiPublicUrl}/ca/intermediate.pem`, crlUrl: `${deps.pkiPublicUrl}/ca/crl` }
    : {};

  for (let attempt = 1; ; attempt++) {
    const id = newId('crt');
    const issued = await issueCertificate({
      profile: plan.profile,
      subject: plan.subject,
      subjectPublicKeySpki: spki,
      issuer: { certificateDer: issuer.der, signer: issuer.signer },
      validityDays: plan.validityDays,
      san: plan.san,
      ...urls,
    });
    // The PKCS#12 is built before anything is recorded: if that fails, nothing was issued.
    let secrets: Omit<IssuanceResult, 'row'> = {};
    if (!c2pa && generated) {
      const password = plan.pkcs12Password ?? randomBytes(18).toString('base64url');
      const pkcs12 = await buildPkcs12({
        certificateDer: issued.der,
        // The mesh CA too: whoever imports the file then trusts the mesh's server certificate.
        chainDer: [issuer.der],
        privateKeyPkcs8: generated.privateKeyPkcs8,
        password,
        friendlyName: plan.subject.commonName,
      });
      secrets = { privateKeyPem: toPem(generated.privateKeyPkcs8, 'PRIVATE KEY'), pkcs12, pkcs12Password: password };
    }
    try {
      const record = async (db: Database) => {
        const recorded = await recordCertificate(db, {
          id,
          der: issued.der,
          profile: plan.profile,
          issuerId: issuer.certificateId,
          projectId: plan.projectId,
          status: plan.requireActivation ? 'PENDING' : 'ACTIVE',
          // Intermediates only: the mesh CA is itself the root.
          chainPem: c2pa ? toPem(issuer.der) : '',
          keyHeldByCa: c2pa && generated !== undefined,
          // The certificate id is the sealed key's associated data: the key opens only on its own record.
          encryptedPrivateKey: c2pa && generated ? encryptPrivateKey(generated.privateKeyPkcs8, deps.keyEncryptionKey, id) : null,
        });
        await bindIfClient(db, recorded, plan.bindingScopes);
        return recorded;
      };
      // One statement needs no transaction; a certificate and its client binding go in together.
      const binds = plan.profile === 'MESH_CLIENT' && plan.projectId !== null && !plan.requireActivation && plan.bindingScopes.length > 0;
      const row = binds ? await deps.db.transaction().execute(record) : await record(deps.db);
      return { row, ...secrets };
    } catch (err) {
      if (isUniqueViolation(err) && attempt < SERIAL_ATTEMPTS) continue;
      if (err instanceof MeshError) throw err;
      throw new MeshError('internal', 'the certificate could not be recorded', { cause: err });
    }
  }
}
