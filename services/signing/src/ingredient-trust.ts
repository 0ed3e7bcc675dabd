import type { MeshClients } from '@c2pa-mesh/clients';
import { dependencyError } from '@c2pa-mesh/errors';

/**
 * The trust anchor the engine validates a parent ingredient against while signing an edit or an
 * update: c2pa-rs records that validation in the ingredient, and Verify reports it as the
 * ingredient's state. With the mesh's C2PA root, a file the mesh signed and signs again records
 * its parent as Trusted, not merely Valid. Asked of the CA once; a failure is not kept.
 */
export interface IngredientTrust {
  anchorsPem(): Promise<string>;
}

export function createIngredientTrust(clients: MeshClients): IngredientTrust {
  let root: Promise<string> | undefined;
  return {
    anchorsPem() {
      root ??= clients.certificateAuthority
        .getCertificateChain({ profile: 'C2PA_SIGNING' })
        .then((chain) => chain.rootPem)
        .catch((error: unknown) => {
          root = undefined;
          throw dependencyError(error, 'the CA could not give its C2PA root certificate');
        });
      return root;
    },
  };
}
