import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import pMap from 'p-map';
import { invalidArgument } from '@c2pa-mesh/errors';
import { verificationV1 } from '@c2pa-mesh/proto';
import { callContext, callerIdentity, codeName, toConnectError } from '@c2pa-mesh/server';
import { checkAssetSize } from './asset-limits.js';
import type { VerificationServiceDeps } from './routes.js';
import { verifyAsset } from './verify-asset.js';

const { ValidationState } = verificationV1;

/** More items than this in one call is a job for several calls (or VerifyStream). */
export const MAX_BATCH_ITEMS = 1000;

/**
 * VerifyBatch: each item verified as Verify would (bounded concurrency, so one batch cannot take
 * every engine worker), one result or error each, and totals that add up:
 * valid + trusted + invalid + failed = total.
 */
export async function verifyBatch(deps: VerificationServiceDeps, req: verificationV1.VerifyBatchRequest, ctx: HandlerContext) {
  const startedAt = performance.now();
  const identity = callerIdentity(ctx);
  const call = callContext(ctx);
  if (req.items.length === 0) throw invalidArgument('items is empty: send at least one asset', { details: { field: 'items' } });
  if (req.items.length > MAX_BATCH_ITEMS) {
    throw invalidArgument(`a batch holds at most ${MAX_BATCH_ITEMS} items, got ${req.items.length}; split it into several calls`, { details: { field: 'items' } });
  }
  const totalBytes = req.items.reduce((sum, item) => sum + item.asset.length, 0);
  call.sizeBytes = totalBytes;
  checkAssetSize(totalBytes, identity, `the batch (${req.items.length} items, ${totalBytes} bytes together)`);

  const results = await pMap(req.items, async (item, index) => {
    try {
      const result = await verifyAsset(
        deps,
        { requestId: call.requestId, projectId: identity.projectId, caller: identity.id, signal: ctx.signal },
        { asset: item.asset, format: item.format, source: 'BATCH' },
      );
      return create(verificationV1.BatchResultSchema, { name: item.name, outcome: { case: 'result', value: result } });
    } catch (error) {
      // The same mapping (and the same secrecy about internal causes) as a failed call.
      const { connectError, expected } = toConnectError(error, call.requestId);
      if (!expected) call.logger.error({ err: error, item: index, name: item.name }, 'batch item failed');
      return create(verificationV1.BatchResultSchema, {
        name: item.name,
        outcome: { case: 'error', value: { code: codeName(connectError.code), message: connectError.rawMessage } },
      });
    }
  }, { concurrency: Math.max(1, deps.settings.batchConcurrency) });

  const totals = create(verificationV1.BatchTotalsSchema, { total: results.length });
  for (const { outcome } of results) {
    const state = outcome.case === 'result' ? outcome.value.validationState : undefined;
    if (state === ValidationState.TRUSTED) totals.trusted++;
    else if (state === ValidationState.VALID) totals.valid++;
    else if (state === ValidationState.INVALID) totals.invalid++;
    else totals.failed++;
  }
  return create(verificationV1.VerifyBatchResponseSchema, {
    results,
    totals,
    durationMs: BigInt(Math.round(performance.now() - startedAt)),
  });
}
