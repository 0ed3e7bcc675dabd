import type { ServiceImpl } from '@connectrpc/connect';
import type { MeshClients } from '@c2pa-mesh/clients';
import { unimplemented } from '@c2pa-mesh/errors';
import type { SigningService } from '@c2pa-mesh/proto';
import { listSigners } from './list-signers.js';

export interface SigningServiceDeps {
  clients: MeshClients;
}

/** The full SigningService: every RPC is listed here, so a missing one does not compile. */
export function createSigningService(deps: SigningServiceDeps): ServiceImpl<typeof SigningService> {
  return {
    sign: () => {
      throw unimplemented('Sign');
    },
    signStream: () => {
      throw unimplemented('SignStream');
    },
    signHash: () => {
      throw unimplemented('SignHash');
    },
    listSigners: (req, ctx) => listSigners(deps, req, ctx),
  };
}
