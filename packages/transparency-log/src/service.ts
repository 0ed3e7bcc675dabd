import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { invalidArgument, notFound } from '@c2pa-mesh/errors';
import { transparencyLogV1, type TransparencyLogService } from '@c2pa-mesh/proto';
import type { TransparencyLog } from './log.js';

function size(value: bigint, field: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidArgument(`${field} must be between 0 and 2^53`, { details: { field } });
  return Number(value);
}

/** TransparencyLogService over the log this process sequences. */
export function createTransparencyLogService(log: TransparencyLog): ServiceImpl<typeof TransparencyLogService> {
  return {
    async appendEntry(req) {
      const appended = await log.append(req.entry);
      return create(transparencyLogV1.AppendEntryResponseSchema, {
        logIndex: BigInt(appended.index),
        leafHash: appended.leafHash,
        inclusionProof: appended.proof,
        checkpoint: appended.checkpoint,
        treeSize: BigInt(appended.treeSize),
      });
    },
    async getCheckpoint() {
      const checkpoint = await log.latestCheckpoint();
      return create(transparencyLogV1.GetCheckpointResponseSchema, {
        checkpoint: checkpoint.note,
        treeSize: BigInt(checkpoint.treeSize),
        rootHash: checkpoint.rootHash,
        logVerifierKey: log.verifierKey,
      });
    },
    async getInclusionProof(req) {
      let index: number;
      if (req.leaf.case === 'leafHash') {
        if (req.leaf.value.length !== 32) throw invalidArgument('leaf_hash is a 32-byte SHA-256 hash', { details: { field: 'leaf_hash' } });
        const found = await log.findLeaf(req.leaf.value);
        if (found === undefined) throw notFound('no entry with this leaf hash is in the log');
        index = found;
      } else if (req.leaf.case === 'logIndex') {
        index = size(req.leaf.value, 'log_index');
      } else {
        throw invalidArgument('name the entry by leaf_hash or log_index', { details: { field: 'leaf' } });
      }
      const checkpoint = req.treeSize === 0n ? await log.latestCheckpoint() : await log.checkpoint(size(req.treeSize, 'tree_size'));
      if (index >= checkpoint.treeSize) {
        throw invalidArgument(`entry ${index} is not in the tree of ${checkpoint.treeSize}`, { details: { field: 'log_index' } });
      }
      const [proof, leafHash, cosigned] = await Promise.all([
        log.inclusionProof(index, checkpoint.treeSize),
        log.leafHashAt(index),
        log.isCosigned(index),
      ]);
      return create(transparencyLogV1.GetInclusionProofResponseSchema, {
        logIndex: BigInt(index),
        leafHash,
        inclusionProof: proof,
        treeSize: BigInt(checkpoint.treeSize),
        rootHash: checkpoint.rootHash,
        checkpoint: checkpoint.note,
        cosigned,
      });
    },
    async getConsistencyProof(req) {
      const second = req.secondSize === 0n ? (await log.latestCheckpoint()).treeSize : size(req.secondSize, 'second_size');
      const first = size(req.firstSize, 'first_size');
      const { proof, firstRoot, secondRoot } = await log.consistencyProof(first, second);
      return create(transparencyLogV1.GetConsistencyProofResponseSchema, {
        firstSize: BigInt(first),
        secondSize: BigInt(second),
        consistencyProof: proof,
        firstRootHash: firstRoot,
        secondRootHash: secondRoot,
      });
    },
  };
}
