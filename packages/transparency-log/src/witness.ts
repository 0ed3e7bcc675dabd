import { EMPTY_ROOT } from './merkle.js';
import { createCosigner } from './note.js';
import { LogVerificationError, checkConsistency, cosignedNote, openTileLog, readSeenCheckpoint, writeSeenCheckpoint } from './client.js';
import type { VerifierKey } from './note.js';

export interface WitnessOptions {
  /** The log's tlog-tiles prefix, e.g. `http://127.0.0.1:8080/log`. */
  logUrl: string;
  logKey: VerifierKey;
  /** The witness's name (cosignature key name) and Ed25519 PKCS#8 key. */
  name: string;
  privateKeyPkcs8: Uint8Array;
  /** Where the last checkpoint this witness verified is kept. */
  statePath: string;
}

export type WitnessOutcome =
  | { status: 'cosigned'; size: number; previousSize: number | undefined; accepted: boolean }
  | { status: 'fork'; size: number; previousSize: number; reason: string };

/**
 * One round of the witness: fetch the log's checkpoint, check its signature, check from the
 * tiles that it extends the last checkpoint this witness cosigned (on first contact: that the
 * tiles hash to its root), cosign it (cosignature/v1) and hand the cosignature to the log. A
 * checkpoint inconsistent with the one seen before is a fork: nothing is cosigned and the state
 * keeps the earlier checkpoint.
 */
export async function witnessOnce(options: WitnessOptions): Promise<WitnessOutcome> {
  const log = openTileLog(options.logUrl, options.logKey);
  const checkpoint = await log.checkpoint();
  const previous = await readSeenCheckpoint(options.statePath);
  try {
    await checkConsistency(log, previous ?? { ...checkpoint, size: 0, root: EMPTY_ROOT }, checkpoint);
  } catch (error) {
    if (error instanceof LogVerificationError && error.kind === 'fork' && previous !== undefined) {
      return { status: 'fork', size: checkpoint.size, previousSize: previous.size, reason: error.message };
    }
    throw error;
  }
  const cosigner = createCosigner(options.name, options.privateKeyPkcs8);
  const note = cosignedNote(checkpoint.note.body, cosigner.cosign(checkpoint.note.body));
  const response = await fetch(`${log.url}/cosignature`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body: note,
    signal: AbortSignal.timeout(15_000),
    redirect: 'error',
  });
  await writeSeenCheckpoint(options.statePath, checkpoint);
  return { status: 'cosigned', size: checkpoint.size, previousSize: previous?.size, accepted: response.ok };
}
