import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { dependencyError, retryOnceWhenCut, MeshError } from '@c2pa-mesh/errors';
import { signingV1 } from '@c2pa-mesh/proto';
import { callContext, callerIdentity } from '@c2pa-mesh/server';
import { signWithCaKey, timeStampFromCa } from './ca-credentials.js';
import type { SigningContext } from './deps.js';
import { checkHashRecordRequest, hashRecordPayload, signHashRecordPayload } from './hash-record.js';
import { resolveSigningCredentials } from './signing-credentials.js';
import { signHashSidecar, checkSidecarRequest } from './hash-sidecar.js';

/** SignHash: a content hash and what it shows → a signed, time-stamped record in the registry. */
export async function signHash(deps: SigningContext, req: signingV1.SignHashRequest, ctx: HandlerContext): Promise<signingV1.SignHashResponse> {
  const call = callContext(ctx);
  const identity = callerIdentity(ctx);
  const fields = checkHashRecordRequest(req);
  if (fields.format) call.format = fields.format;

  const sidecar = checkSidecarRequest(req, fields);
  const { project, signer, ocspResponse } = await resolveSigningCredentials(deps, identity, req);
  call.projectId = project.projectId;
  const payloadJson = hashRecordPayload(fields, signer, new Date());
  const { cose, timeStamp } = await signHashRecordPayload({
    alg: signer.alg,
    chainDer: signer.chainDer,
    payload: new TextEncoder().encode(payloadJson),
    sign: (toBeSigned) => signWithCaKey(deps.clients, signer, toBeSigned),
    timeStamp: (countersignature) => timeStampFromCa(deps.clients, countersignature),
    ocspResponse,
  });
  const signedAt = timeStamp.genTime.toISOString();
  const store = sidecar === undefined ? undefined : await signHashSidecar(deps, sidecar, fields.contentHash, signer, ocspResponse);

  const { asset } = await retryOnceWhenCut(() =>
    deps.clients.registry.registerAsset({
      projectId: project.projectId,
      kind: 'HASH_RECORD',
      assetSha256: fields.contentHash,
      inputSha256: fields.contentHash,
      format: fields.format,
      sizeBytes: 0n,
      signerId: signer.signerId,
      certificateId: signer.certificateId,
      requestId: call.requestId,
      title: fields.headline,
      tags: fields.tags,
      contentType: fields.contentType,
      headline: fields.headline,
      author: fields.author,
      signedAt,
      payloadJson,
    }),
  ).catch((error: unknown) => {
    throw dependencyError(error, 'the record was signed but the registry did not record it, so it is not returned; retry the request', { keep: ['failed_precondition', 'not_found'] });
  });
  if (asset === undefined || asset.assetId === '') {
    throw new MeshError('unavailable', 'the record was signed but the registry returned no id, so it is not returned; retry the request');
  }
  return create(signingV1.SignHashResponseSchema, {
    signature: cose,
    signedAt,
    assetId: asset.assetId,
    payloadJson,
    timestampToken: timeStamp.token,
    certificateChainPem: signer.chainPem,
    requestId: call.requestId,
    contentHash: fields.contentHash,
    signerId: signer.signerId,
    certificateId: signer.certificateId,
    ...(store === undefined ? {} : { c2paManifestStore: store.manifestStore, c2paManifestLabel: store.manifestLabel }),
  });
}
