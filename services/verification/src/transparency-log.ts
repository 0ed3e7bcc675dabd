import { callDependency, isMeshError } from '@c2pa-mesh/errors';
import { leafHash } from '@c2pa-mesh/transparency-log';
import type { VerificationServiceDeps } from './routes.js';

/** VerifyResponse fields 27–30: whether the claim signature is a leaf of the mesh's log. */
export interface LogStanding {
  inTransparencyLog: boolean;
  logIndex: bigint;
  logInclusionProof: Uint8Array[];
  logCheckpoint: string;
}

const NOT_LOGGED: LogStanding = { inTransparencyLog: false, logIndex: 0n, logInclusionProof: [], logCheckpoint: '' };

/** Looks the asset's claim signature up in the transparency log by its RFC 6962 leaf hash. */
export async function logStandingOf(deps: Pick<VerificationServiceDeps, 'clients'>, claimSignature: Uint8Array | undefined): Promise<LogStanding> {
  if (claimSignature === undefined) return NOT_LOGGED;
  try {
    const found = await callDependency(
      'the transparency log could not look the signature up',
      () => deps.clients.transparencyLog.getInclusionProof({ leaf: { case: 'leafHash', value: leafHash(claimSignature) } }),
      { keep: ['not_found'] },
    );
    return { inTransparencyLog: true, logIndex: found.logIndex, logInclusionProof: found.inclusionProof, logCheckpoint: found.checkpoint };
  } catch (error) {
    if (isMeshError(error) && error.code === 'not_found') return NOT_LOGGED;
    throw error;
  }
}
