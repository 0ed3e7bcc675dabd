import type { MeshClients } from '@c2pa-mesh/clients';
import { LRUCache } from 'lru-cache';
import { dependencyError, MeshError, failedPrecondition, unavailable } from '@c2pa-mesh/errors';
import { TimeStampResponseError, buildTimeStampQuery, readTimeStampResponse, type ReceivedTimeStamp } from '@c2pa-mesh/pki';
import type { CertificateStatusEvents, SigningIdentity } from './signer-directory.js';

/**
 * What a signature needs from the certificate authority, each through its RPC (the signing
 * service holds no keys): a signature with a key the CA keeps, an RFC 3161 time-stamp from its
 * TSA, and a fresh OCSP response from its responder to staple.
 */

/** Signs `data` with the signer's CA-held key; ECDSA comes back as r‖s, as COSE wants it. */
export async function signWithCaKey(clients: MeshClients, signer: SigningIdentity, data: Uint8Array): Promise<Uint8Array> {
  const { signature } = await clients.certificateAuthority
    .signData({ certificateId: signer.certificateId, data, encoding: 'ieee-p1363' })
    .catch((error: unknown) => {
      throw dependencyError(error, `the certificate authority did not sign with signer ${signer.signerId}`, { keep: ['failed_precondition', 'not_found'] });
    });
  if (signature.length === 0) throw unavailable(`the certificate authority returned an empty signature for signer ${signer.signerId}`);
  return signature;
}

/**
 * An RFC 3161 time-stamp over SHA-256(`data`) from the mesh TSA: the whole TimeStampResp (what
 * sigTst2 carries) and its token, checked against the request (granted, imprint, nonce).
 */
export async function timeStampFromCa(clients: MeshClients, data: Uint8Array): Promise<ReceivedTimeStamp> {
  const query = buildTimeStampQuery(data);
  const { timestampResponse } = await clients.certificateAuthority.timestamp({ timestampQuery: query.der }).catch((error: unknown) => {
    throw dependencyError(error, 'the time-stamp authority did not answer');
  });
  try {
    return readTimeStampResponse(timestampResponse, query);
  } catch (error) {
    if (!(error instanceof TimeStampResponseError)) throw error;
    throw new MeshError('unavailable', `the time-stamp authority's answer could not be used: ${error.message}`, { cause: error });
  }
}

/** Supplies the OCSP response stapled into each signature. */
export interface OcspStapler {
  /**
   * A DER OCSPResponse saying the signer is good. A certificate the responder reports revoked
   * cannot sign (the staple would say so to every verifier): failed_precondition.
   */
  stapleFor(signer: SigningIdentity): Promise<Uint8Array>;
}

export interface OcspStaplerOptions {
  /** How long a response is reused; never past its nextUpdate. Default five minutes. */
  reuseMs?: number;
  /** Most signers whose response is kept. */
  maxEntries?: number;
  clock?: () => number;
  /** Status changes heard here: each one drops every kept response. */
  status?: CertificateStatusEvents;
}

/**
 * OCSP staples from the CA's responder, each reused for a few minutes. The responder itself
 * serves pre-signed responses refreshed hourly, so reuse costs little freshness and saves a call
 * per signature; revocation still stops signing at once: a status change heard here drops every
 * kept response, where none is heard the signer's status is read on every request, and the CA
 * refuses SignData for a certificate that is not ACTIVE.
 */
export function createOcspStapler(clients: MeshClients, options: OcspStaplerOptions = {}): OcspStapler {
  const reuseMs = options.reuseMs ?? 5 * 60_000;
  const maxEntries = options.maxEntries ?? 1000;
  const now = options.clock ?? Date.now;
  const kept = new LRUCache<string, { der: Uint8Array; until: number }>({ max: maxEntries });
  let generation = 0;
  options.status?.onChange(() => {
    generation++;
    kept.clear();
  });

  async function fetchStaple(signer: SigningIdentity): Promise<{ der: Uint8Array; until: number }> {
    const status = await clients.certificateAuthority.checkStatus({ certificateId: signer.certificateId }).catch((error: unknown) => {
      throw dependencyError(error, `the OCSP responder did not answer for signer ${signer.signerId}`, { keep: ['failed_precondition', 'not_found'] });
    });
    if (status.status === 'REVOKED') {
      throw failedPrecondition(`signer ${signer.signerId} was revoked${status.revokedAt ? ` at ${status.revokedAt}` : ''} and can no longer sign; choose another signer (ListSigners)`, {
        details: { signerId: signer.signerId, status: 'REVOKED' },
      });
    }
    if (status.status !== 'GOOD' || status.ocspResponse.length === 0) {
      throw unavailable(`the OCSP responder gave no usable status for signer ${signer.signerId} (${status.status || 'no status'}); retry later`);
    }
    const nextUpdate = Date.parse(status.nextUpdate);
    const until = Math.min(now() + reuseMs, Number.isNaN(nextUpdate) ? 0 : nextUpdate - 60_000);
    return { der: status.ocspResponse, until };
  }

  return {
    async stapleFor(signer) {
      const entry = kept.get(signer.certificateId);
      if (entry !== undefined && entry.until > now()) return entry.der;
      const startedAt = generation;
      const fresh = await fetchStaple(signer);
      if (startedAt === generation) kept.set(signer.certificateId, fresh);
      return fresh.der;
    },
  };
}
