import type { ServiceImpl } from '@connectrpc/connect';
import type { SigningService } from '@c2pa-mesh/proto';
import type { SigningContext, SigningServiceDeps } from './deps.js';
import { listSigners } from './list-signers.js';
import { sign } from './sign.js';
import { signHash } from './sign-hash.js';
import { signStream } from './sign-stream.js';
import { createSignerDirectory } from './signer-directory.js';
import { createOcspStapler } from './ca-credentials.js';
import { createIngredientTrust } from './ingredient-trust.js';

export type { SigningServiceDeps } from './deps.js';
export type { CertificateStatusEvents } from './signer-directory.js';

/** The full SigningService: every RPC is listed here, so a missing one does not compile. */
export function createSigningService(deps: SigningServiceDeps): ServiceImpl<typeof SigningService> {
  const context: SigningContext = {
    ...deps,
    signers: createSignerDirectory(deps.clients, undefined, { status: deps.certificateStatus }),
    staples: createOcspStapler(deps.clients, { status: deps.certificateStatus }),
    ingredientTrust: createIngredientTrust(deps.clients),
  };
  return {
    sign: (req, ctx) => sign(context, req, ctx),
    signStream: (requests, ctx) => signStream(context, requests, ctx),
    signHash: (req, ctx) => signHash(context, req, ctx),
    listSigners: (req, ctx) => listSigners(deps, req, ctx),
  };
}
