import { Code } from '@connectrpc/connect';
import { ConnectError } from '@connectrpc/connect';
import { leafHash } from '@c2pa-mesh/transparency-log';
import { callDependency } from './dependency.js';
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
      'looking the signature up in the transparency log',
      () => deps.clients.transparencyLog.getInclusionProof({ leaf: { case: 'leafHash', value: leafHash(claimSignature) } }),
      [Code.NotFound],
    );
    return { inTransparencyLog: true, logIndex: found.logIndex, logInclusionProof: found.inclusionProof, logCheckpoint: found.checkpoint };
  } catch (error) {
    if (error instanceof ConnectError && error.code === Code.NotFound) return NOT_LOGGED;
    throw error;
  }
}
