import type { MeshClients } from '@c2pa-mesh/clients';
import { buildCoseSign1, claimSignatureReserveSize, type ClaimSigner } from '@c2pa-mesh/engine';
import type { ReceivedTimeStamp } from '@c2pa-mesh/pki';
import { signWithCaKey, timeStampFromCa } from './ca-credentials.js';
import type { SigningIdentity } from './signer-directory.js';

export interface MeshClaimSigner extends ClaimSigner {
  /** The time-stamp of the last signature made, once the engine has asked for one. */
  readonly timeStamp: ReceivedTimeStamp | undefined;
  /** The last COSE_Sign1 handed to the engine: the `c2pa.signature` box content, byte for byte. */
  readonly claimSignature: Uint8Array | undefined;
}

/**
 * The claim signer the engine calls back: a complete COSE_Sign1 with the signer's chain, the
 * signature from the CA-held key, the mesh TSA's RFC 3161 TimeStampResp over the countersignature
 * (sigTst2, the whole response as c2pa-rs writes it) and the OCSP staple (rVals), padded to the
 * reserved size.
 */
export function createMeshClaimSigner(clients: MeshClients, signer: SigningIdentity, ocspResponse: Uint8Array): MeshClaimSigner {
  const reserveSize = claimSignatureReserveSize({
    alg: signer.alg,
    certificateChainDer: signer.chainDer,
    timeStamp: true,
    ocspResponseLength: ocspResponse.length,
  });
  let timeStamp: ReceivedTimeStamp | undefined;
  let claimSignature: Uint8Array | undefined;
  return {
    alg: signer.alg,
    reserveSize,
    get timeStamp() {
      return timeStamp;
    },
    get claimSignature() {
      return claimSignature;
    },
    async sign(claim) {
      claimSignature = await buildCoseSign1({
        alg: signer.alg,
        certificateChainDer: signer.chainDer,
        claim,
        signSigStructure: (toBeSigned) => signWithCaKey(clients, signer, toBeSigned),
        timeStamp: async (countersignature) => {
          timeStamp = await timeStampFromCa(clients, countersignature);
          return timeStamp.response;
        },
        ocspResponses: [ocspResponse],
        reserveSize,
      });
      return claimSignature;
    },
  };
}
