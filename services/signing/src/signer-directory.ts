import { Code, ConnectError } from '@connectrpc/connect';
import { LRUCache } from 'lru-cache';
import type { MeshClients } from '@c2pa-mesh/clients';
import type { ClaimSigner } from '@c2pa-mesh/engine';
import { dependencyError, failedPrecondition, invalidArgument, notFound, unavailable } from '@c2pa-mesh/errors';
import { pemToDer } from '@c2pa-mesh/pki';
import type { certificateAuthorityV1 } from '@c2pa-mesh/proto';
import type { SigningProject } from './signing-project.js';

/** A signer resolved for one request: the CA-held key to sign with and its chain. */
export interface SigningIdentity {
  /** `Signer.id` (the certificate id: one signer per C2PA signing certificate). */
  signerId: string;
  certificateId: string;
  alg: ClaimSigner['alg'];
  /** Signing certificate first, then the intermediates (the root is the relying party's anchor). */
  chainDer: Uint8Array[];
  chainPem: string;
  commonName: string;
  /** Undefined for a mesh-wide signer. */
  projectId?: string;
}

const COSE_ALG: Record<string, ClaimSigner['alg']> = { ES256: 'es256', ES384: 'es384', PS256: 'ps256', ED25519: 'ed25519' };

export interface SignerChoice {
  /** The request's `signer_id`; empty for the default. */
  signerId: string;
  /**
   * The project the asset is signed for, or its lookup still under way: a named signer is read
   * meanwhile, and a failed project lookup is reported before anything about the signer.
   */
  project: SigningProject | Promise<SigningProject>;
}

/**
 * Certificate status changes as this process hears them (the CA's own events, local or over
 * LISTEN/NOTIFY): while `heard()` is true, a certificate read once stays valid until `onChange`.
 */
export interface CertificateStatusEvents {
  heard(): boolean;
  onChange(listener: () => void): void;
}

export interface SignerDirectoryOptions {
  /** Without it (the CA runs in another process) every request reads its signer afresh. */
  status?: CertificateStatusEvents;
  /** Signing certificates kept, most recently used first. */
  maxEntries?: number;
}

export interface SignerDirectory {
  /**
   * The signer a request names, or the project's or the mesh's default, checked to be able to
   * sign for the project now: a C2PA signing certificate whose key the CA holds, ACTIVE, within
   * its validity, mesh-wide or the project's own.
   */
  resolve(choice: SignerChoice): Promise<SigningIdentity>;
}

/** The answer for a signer that does not exist or is another project's: the two must read alike. */
const unknownSigner = (id: string, cause?: unknown) => notFound(`no signer ${id}; ListSigners shows the signers you may use`, { cause, details: { field: 'signer_id' } });

/** Signer ids are certificate ids: short tokens, never paths or free text. */
const SIGNER_ID = /^[A-Za-z0-9_.:-]{1,100}$/;

/** A signing certificate as read from the CA, with its chain decoded once. */
interface SignerRecord {
  certificate: certificateAuthorityV1.Certificate;
  chainPem: string;
  chainDer: Uint8Array[];
}

export function createSignerDirectory(clients: MeshClients, clock: () => Date = () => new Date(), options: SignerDirectoryOptions = {}): SignerDirectory {
  const { status } = options;
  // Resolved once per signer while status changes are heard: the certificate, its DER chain.
  // Status, validity and tenant are still checked on every request, against the kept record.
  const records = new LRUCache<string, SignerRecord>({ max: options.maxEntries ?? 1000 });
  // Bumped by every change: a read that started before one is not kept.
  let generation = 0;
  status?.onChange(() => {
    generation++;
    records.clear();
  });

  // The mesh default signer is made once at bootstrap and never replaced: its id is looked up
  // once per process. Its status is read fresh on every request like any signer's.
  let meshDefault: Promise<string> | undefined;

  async function findMeshDefault(): Promise<string> {
    let pageToken = '';
    do {
      const page = await clients.certificateAuthority
        .listCertificates({ profile: 'C2PA_SIGNING', keyHeldByCa: true, pageSize: 500, pageToken })
        .catch((error: unknown) => {
          throw dependencyError(error, 'the certificate authority could not list the signers');
        });
      const found = page.certificates.find((c) => c.isDefaultSigner);
      if (found) return found.certificateId;
      pageToken = page.nextPageToken;
    } while (pageToken);
    throw unavailable('the mesh has no default signer; name one in signer_id (see ListSigners)');
  }

  function meshDefaultSignerId(): Promise<string> {
    meshDefault ??= findMeshDefault().catch((error: unknown) => {
      meshDefault = undefined;
      throw error;
    });
    return meshDefault;
  }

  function check(record: SignerRecord, projectId: string, named: boolean): SigningIdentity {
    const { certificate } = record;
    const id = certificate.certificateId;
    const described = named ? `signer ${id}` : `the default signer ${id}`;
    // Another project's certificate is answered before anything else is said of it, exactly as a
    // missing signer: a project's caller learns nothing about other tenants (the registry and the
    // CA answer the same).
    if (certificate.projectId !== '' && certificate.projectId !== projectId) {
      if (named) throw unknownSigner(id);
      throw failedPrecondition(`${described} of this project is not one of its own signers; set another default signer (UpdateProject)`, {
        details: { field: 'default_signer_id' },
      });
    }
    if (certificate.profile !== 'C2PA_SIGNING' || !certificate.keyHeldByCa) {
      throw failedPrecondition(`${described} is not a C2PA signing identity whose key the mesh holds; ListSigners shows those you may use`, {
        details: { field: 'signer_id', signerId: id },
      });
    }
    const now = clock();
    switch (certificate.status) {
      case 'ACTIVE':
        break;
      case 'REVOKED':
        throw failedPrecondition(`${described} was revoked${certificate.revokedAt ? ` at ${certificate.revokedAt}` : ''} and can no longer sign; choose another signer (ListSigners)`, {
          details: { signerId: id, status: 'REVOKED' },
        });
      case 'EXPIRED':
        throw failedPrecondition(`${described} expired at ${certificate.notAfter} and can no longer sign; choose another signer (ListSigners)`, {
          details: { signerId: id, status: 'EXPIRED' },
        });
      case 'PENDING':
        throw failedPrecondition(`${described} is waiting for activation (CertificateAuthorityService.ActivateCertificate) and cannot sign yet`, {
          details: { signerId: id, status: 'PENDING' },
        });
      default:
        throw failedPrecondition(`${described} has status ${certificate.status || 'unknown'} and cannot sign`, { details: { signerId: id, status: certificate.status } });
    }
    if (Date.parse(certificate.notBefore) > now.getTime()) {
      throw failedPrecondition(`${described} is not valid before ${certificate.notBefore}; it cannot sign yet`, { details: { signerId: id, status: 'NOT_YET_VALID' } });
    }
    if (Date.parse(certificate.notAfter) <= now.getTime()) {
      throw failedPrecondition(`${described} expired at ${certificate.notAfter} and can no longer sign; choose another signer (ListSigners)`, {
        details: { signerId: id, status: 'EXPIRED' },
      });
    }
    const alg = COSE_ALG[certificate.keyAlgorithm];
    if (alg === undefined) throw failedPrecondition(`${described} uses the key algorithm ${certificate.keyAlgorithm}, which C2PA signing does not support`);
    return {
      signerId: id,
      certificateId: id,
      alg,
      chainDer: record.chainDer,
      chainPem: record.chainPem,
      commonName: certificate.commonName,
      ...(certificate.projectId ? { projectId: certificate.projectId } : {}),
    };
  }

  async function readCertificate(id: string, named: boolean): Promise<SignerRecord> {
    const kept = status?.heard() ? records.get(id) : undefined;
    if (kept !== undefined) return kept;
    const startedAt = generation;
    const { certificate } = await clients.certificateAuthority.getCertificate({ certificateId: id }).catch((error: unknown) => {
      if (named && error instanceof ConnectError && error.code === Code.NotFound) throw unknownSigner(id, error);
      throw dependencyError(error, `the default signer ${id} could not be read`, { as: { not_found: 'unavailable' } });
    });
    if (certificate === undefined) throw unknownSigner(id);
    const chainPem = `${certificate.certificatePem.trim()}\n${certificate.chainPem.trim()}\n`.replace(/\n\n+$/, '\n');
    const record = { certificate, chainPem, chainDer: pemToDer(chainPem) };
    if (status?.heard() && startedAt === generation) records.set(id, record);
    return record;
  }

  return {
    async resolve(choice) {
      const named = choice.signerId !== '';
      if (named && !SIGNER_ID.test(choice.signerId)) {
        throw invalidArgument('signer_id is not a signer id; use an id from ListSigners, or leave it empty for the default signer', {
          details: { field: 'signer_id' },
        });
      }
      const project = Promise.resolve(choice.project);
      let certificate: Promise<SignerRecord>;
      if (named) {
        certificate = readCertificate(choice.signerId, true);
      } else {
        // Most projects sign with the mesh default: read it while the project is looked up, and
        // use it unless the project names a default of its own.
        const meshDefaultCertificate = meshDefaultSignerId().then((id) => readCertificate(id, false));
        meshDefaultCertificate.catch(() => undefined);
        certificate = project.then((p) => (p.defaultSignerId ? readCertificate(p.defaultSignerId, false) : meshDefaultCertificate));
      }
      const [projectOutcome, certificateOutcome] = await Promise.allSettled([project, certificate]);
      if (projectOutcome.status === 'rejected') throw projectOutcome.reason;
      if (certificateOutcome.status === 'rejected') throw certificateOutcome.reason;
      return check(certificateOutcome.value, projectOutcome.value.projectId, named);
    },
  };
}
