import type { CallerClients } from '@c2pa-mesh/clients';
import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';
import type { registryV1 } from '@c2pa-mesh/proto';
import { parseCheckpointBody, parseSignedNote, verifyInclusion } from '@c2pa-mesh/transparency-log';
import type { CallOptions } from '@connectrpc/connect';
import { certanaCaller, envelope, field, jsonBody } from './certana-caller.js';
import type { Exchange } from './exchange.js';
import type { RouteContext } from './gateway.js';

/**
 * Certana's "blockchain commitments" answered from the mesh's transparency log, an append-only
 * RFC 6962 Merkle tree of every claim signature the mesh makes, with checkpoints cosigned by a
 * witness. An asset has one commitment: its claim signature's leaf, so its commitment id is the
 * asset id, and `POST blockchain/commit` returns the commitment the signing already made. The
 * fields:
 *
 * - `tx_hash`: the leaf hash, SHA-256(0x00 ‖ claim signature), hex.
 * - `commitment_hash`: the root hash (hex) of the checkpoint the inclusion proof is against.
 * - `signature`: the log's signature on that checkpoint (the signed note's signature, base64).
 * - `confirmation_status`: `finalized` once a witness has cosigned a checkpoint covering the
 *   leaf, `pending` until then.
 * - `verified`: the inclusion proof recomputes the checkpoint's root hash.
 * - `on_chain_at`: when the registry recorded the asset, which happens once the log holds it.
 *
 * `watermark_hash` and `metadata` are not committed: the log holds claim signatures only.
 */

export interface LogCommitment {
  logIndex: number;
  txHash: string;
  commitmentHash: string;
  signature: string;
  cosigned: boolean;
  verified: boolean;
  treeSize: number;
}

/** The log's standing of a leaf, by index, proven against the latest checkpoint. */
export async function commitmentOf(clients: CallerClients, options: CallOptions, logIndex: bigint): Promise<LogCommitment> {
  const proof = await clients.transparencyLog.getInclusionProof({ leaf: { case: 'logIndex', value: logIndex } }, options);
  const note = parseSignedNote(proof.checkpoint);
  const checkpoint = parseCheckpointBody(note.body);
  const root = proof.rootHash;
  const verified =
    Buffer.from(checkpoint.root).equals(Buffer.from(root)) &&
    BigInt(checkpoint.size) === proof.treeSize &&
    verifyInclusion(Number(proof.logIndex), Number(proof.treeSize), proof.leafHash, proof.inclusionProof, root);
  return {
    logIndex: Number(proof.logIndex),
    txHash: Buffer.from(proof.leafHash).toString('hex'),
    commitmentHash: Buffer.from(root).toString('hex'),
    signature: note.signatures[0] ? Buffer.from(note.signatures[0].signature).toString('base64') : '',
    cosigned: proof.cosigned,
    verified,
    treeSize: Number(proof.treeSize),
  };
}

function commitmentView(asset: registryV1.Asset, commitment: LogCommitment) {
  return {
    commitment_id: asset.assetId,
    asset_id: asset.assetId,
    tx_hash: commitment.txHash,
    signature: commitment.signature,
    commitment_hash: commitment.commitmentHash,
    on_chain_at: asset.createdAt,
    confirmation_status: commitment.cosigned ? 'finalized' : 'pending',
    verified: commitment.verified,
    log_index: commitment.logIndex,
    tree_size: commitment.treeSize,
  };
}

async function loggedAsset(exchange: Exchange, context: RouteContext, assetId: string) {
  const caller = await certanaCaller(exchange, context);
  const { asset } = await caller.clients.registry.getAsset({ assetId }, caller.options);
  if (asset!.logIndex === undefined) {
    throw failedPrecondition(`asset ${assetId} has no entry in the transparency log (hash records and assets signed before the log existed have none)`);
  }
  return { asset: asset!, commitment: await commitmentOf(caller.clients, caller.options, asset!.logIndex) };
}

/** `POST blockchain/commit` {asset_id, watermark_hash, metadata} → 201 with the asset's commitment. */
async function commit(exchange: Exchange, context: RouteContext): Promise<void> {
  const body = await jsonBody(exchange);
  const assetId = field(body, 'asset_id');
  if (body.metadata !== undefined && (typeof body.metadata !== 'object' || Array.isArray(body.metadata))) throw invalidArgument('"metadata" must be a JSON object', { details: { field: 'metadata' } });
  field(body, 'watermark_hash', false);
  const { asset, commitment } = await loggedAsset(exchange, context, assetId);
  envelope(exchange, 201, commitmentView(asset, commitment), "The asset's claim signature is in the transparency log; watermark_hash and metadata are not part of the commitment");
}

/** `GET blockchain/commitment/{id}` (the asset id). */
async function getCommitment(exchange: Exchange, context: RouteContext, commitmentId: string): Promise<void> {
  const { asset, commitment } = await loggedAsset(exchange, context, commitmentId);
  envelope(exchange, 200, commitmentView(asset, commitment), 'Commitment retrieved');
}

export const BLOCKCHAIN_ROUTES = {
  'POST blockchain/commit': commit,
  'GET blockchain/commitment/*': getCommitment,
};
