import { dependencyError, MeshError } from '@c2pa-mesh/errors';
import type { SigningContext } from './deps.js';

/** Where a claim signature sits in the mesh's transparency log (SignResponse fields 16–18). */
export interface LoggedSignature {
  logIndex: bigint;
  logInclusionProof: Uint8Array[];
  logCheckpoint: string;
}

/**
 * Appends the claim signature (the COSE_Sign1 the engine stored in the `c2pa.signature` box) to
 * the transparency log, once the engine has signed and before the asset is registered: the call
 * waits for the batch that commits it, which starts at once unless one is being written.
 */
export async function logClaimSignature(deps: Pick<SigningContext, 'clients'>, claimSignature: Uint8Array | undefined): Promise<LoggedSignature> {
  if (claimSignature === undefined) throw new MeshError('internal', 'the engine produced a signed asset without asking for a signature');
  const logged = await deps.clients.transparencyLog.appendEntry({ entry: claimSignature }).catch((error: unknown) => {
    throw dependencyError(error, 'the asset was signed but the transparency log did not record its signature, so it is not returned; retry the request');
  });
  return { logIndex: logged.logIndex, logInclusionProof: logged.inclusionProof, logCheckpoint: logged.checkpoint };
}
