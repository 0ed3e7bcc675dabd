import { manifestStoreWriter, signDetachedManifestStore } from '@c2pa-mesh/c2pa-stream';
import { planIntent } from '@c2pa-mesh/engine';
import type { signingV1 } from '@c2pa-mesh/proto';
import { createMeshClaimSigner } from './claim-signer.js';
import type { SigningContext } from './deps.js';
import type { HashRecordFields } from './hash-record.js';
import { prepareManifestDefinition } from './manifest-definition.js';
import type { SigningIdentity } from './signer-directory.js';

/**
 * SignHash with `c2pa_manifest_store`: besides the hash record, a C2PA manifest store whose hard
 * binding is the content hash (the SHA-256 of the whole file), written by the streaming manifest
 * writer. The customer keeps the file; the store travels beside it as a `.c2pa` sidecar.
 */

/** IPTC digital source types for SignHash's content types. */
const DIGITAL_SOURCE_TYPES: Record<HashRecordFields['contentType'], string> = {
  AUTHENTIC: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture',
  AI_ENHANCED: 'http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia',
  AI_GENERATED: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia',
};

/** The manifest definition of the sidecar, checked before anything is signed; undefined when none was asked for. */
export function checkSidecarRequest(req: signingV1.SignHashRequest, fields: HashRecordFields): string | undefined {
  if (!req.c2paManifestStore) return undefined;
  const prepared = prepareManifestDefinition(req.manifestJson, { title: fields.headline });
  const definition = planIntent(prepared.json, 'create', { defaultDigitalSourceType: DIGITAL_SOURCE_TYPES[fields.contentType] }).manifestDefinition;
  // What the writer cannot express is refused now, before the record is signed.
  manifestStoreWriter(definition, { signatureReserveSize: 0 });
  return definition;
}

export async function signHashSidecar(deps: SigningContext, manifestDefinition: string, contentHash: string, signer: SigningIdentity, ocspResponse: Uint8Array) {
  const digest = Buffer.from(contentHash.slice('sha256:'.length), 'hex');
  return signDetachedManifestStore({
    manifestDefinition,
    signer: createMeshClaimSigner(deps.clients, signer, ocspResponse),
    contentSha256: new Uint8Array(digest),
  });
}
