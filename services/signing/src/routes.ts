import type { ServiceImpl } from '@connectrpc/connect';
import type { MeshClients } from '@c2pa-mesh/clients';
import type { MeshConfig } from '@c2pa-mesh/config';
import type { C2paEngine } from '@c2pa-mesh/engine';
import type { Logger } from 'pino';
import { unimplemented } from '@c2pa-mesh/errors';
import type { SigningService } from '@c2pa-mesh/proto';
import { listSigners } from './list-signers.js';

export interface SigningServiceDeps {
  clients: MeshClients;
  /** The C2PA engine worker pool (shared by signing and verification in one process). */
  engine: C2paEngine;
  config: MeshConfig;
  logger: Logger;
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
