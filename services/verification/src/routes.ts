import type { ServiceImpl } from '@connectrpc/connect';
import type { MeshClients } from '@c2pa-mesh/clients';
import type { MeshConfig } from '@c2pa-mesh/config';
import type { C2paEngine } from '@c2pa-mesh/engine';
import type { Logger } from 'pino';
import { unimplemented } from '@c2pa-mesh/errors';
import type { VerificationService } from '@c2pa-mesh/proto';

export interface VerificationServiceDeps {
  clients: MeshClients;
  /** The C2PA engine worker pool (shared by signing and verification in one process). */
  engine: C2paEngine;
  config: MeshConfig;
  logger: Logger;
}

/** The full VerificationService: every RPC is listed here, so a missing one does not compile. */
export function createVerificationService(_deps: VerificationServiceDeps): ServiceImpl<typeof VerificationService> {
  return {
    verify: () => {
      throw unimplemented('Verify');
    },
    verifyStream: () => {
      throw unimplemented('VerifyStream');
    },
    verifyByHash: () => {
      throw unimplemented('VerifyByHash');
    },
    verifyUrl: () => {
      throw unimplemented('VerifyUrl');
    },
    verifyBatch: () => {
      throw unimplemented('VerifyBatch');
    },
    listVerifications: () => {
      throw unimplemented('ListVerifications');
    },
  };
}
