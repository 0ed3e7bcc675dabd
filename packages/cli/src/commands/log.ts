import { generateKeyPairSync, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEngine, sniffFormat } from '@c2pa-mesh/engine';
import { createPrivateFileIfAbsent } from '@c2pa-mesh/key-custody';
import {
  LogVerificationError,
  checkConsistency,
  checkInclusion,
  createCosigner,
  openTileLog,
  parseVerifierKey,
  readSeenCheckpoint,
  verifyCosignature,
  witnessOnce,
  writeSeenCheckpoint,
  type VerifierKey,
} from '@c2pa-mesh/transparency-log';
import { CliError, write, writeJson, type CliIo } from '../io.js';

/** Where the mesh's relying-party listener serves the log by default (PKI_HTTP_PORT 8080). */
export const DEFAULT_LOG_URL = 'http://127.0.0.1:8080/log';

export interface LogOptions {
  logUrl?: string;
  logKey?: string;
  json?: boolean;
}

function logUrlOf(options: LogOptions, io: CliIo): string {
  const url = options.logUrl ?? io.env.C2PA_MESH_LOG_URL ?? DEFAULT_LOG_URL;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`--log-url must be an http(s) URL such as ${DEFAULT_LOG_URL}, got "${url}"`, 2);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new CliError(`--log-url must be http or https, got "${url}"`, 2);
  return url.replace(/\/+$/, '');
}

function verifierKeyOf(text: string, what: string): VerifierKey {
  try {
    return parseVerifierKey(text);
  } catch (error) {
    throw new CliError(`${what}: ${(error as Error).message}`, 2);
  }
}

/**
 * The log's note key: --log-key (or C2PA_MESH_LOG_KEY) pins it; without one, the key the log
 * itself publishes at <log-url>/key is used and named, so that it can be pinned next time.
 */
async function logKeyOf(url: string, options: LogOptions, io: CliIo): Promise<{ key: VerifierKey; pinned: boolean }> {
  const text = options.logKey ?? io.env.C2PA_MESH_LOG_KEY;
  if (text) return { key: verifierKeyOf(text, '--log-key'), pinned: true };
  let response: Response;
  try {
    response = await fetch(`${url}/key`, { signal: AbortSignal.timeout(15_000), redirect: 'error' });
  } catch (error) {
    throw new CliError(`cannot reach the log at ${url}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new CliError(`${url}/key answered ${response.status}; pass the log's key with --log-key`);
  return { key: verifierKeyOf((await response.text()).slice(0, 1000), `${url}/key`), pinned: false };
}

async function claimSignatureOf(file: string, io: CliIo): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path.resolve(io.cwd, file)));
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const format = sniffFormat(bytes);
  if (!format) throw new CliError(`${file}: not a media format c2pa-rs reads`);
  const engine = createEngine({ threads: 1, warmupBytes: 0 });
  try {
    const report = await engine.read({ format, asset: bytes });
    if (!report) throw new CliError(`${file} carries no C2PA manifest: there is no claim signature to look for`);
    if (!report.claimSignature) throw new CliError(`${file}: the active manifest has no readable c2pa.signature box`);
    return report.claimSignature;
  } finally {
    await engine.close();
  }
}

export interface LogVerifyOptions extends LogOptions {
  /** JSON file keeping the last checkpoint verified: the next run checks the log extends it. */
  state?: string;
  /** Witnesses (cosignature/v1 keys) whose cosignatures are reported. */
  witnessKey?: string[];
}

/**
 * `c2pa-mesh log verify FILE`: the file's claim signature (its `c2pa.signature` box) is looked
 * for in the log's level-0 tiles, and its inclusion in the signed checkpoint is proven from the
 * tiles; with --state, the checkpoint is also proven consistent with the one verified last time.
 * Nothing the log says about a proof is taken on trust: only its signed checkpoint and tiles.
 */
export async function verifyInLog(file: string, options: LogVerifyOptions, io: CliIo): Promise<number> {
  const url = logUrlOf(options, io);
  const witnesses = (options.witnessKey ?? []).map((k) => verifierKeyOf(k, '--witness-key'));
  const entry = await claimSignatureOf(file, io);
  const { key, pinned } = await logKeyOf(url, options, io);
  const log = openTileLog(url, key);
  try {
    const checkpoint = await log.checkpoint();
    const { index } = await checkInclusion(log, checkpoint, entry);
    const previous = options.state ? await readSeenCheckpoint(path.resolve(io.cwd, options.state)) : undefined;
    if (previous !== undefined) await checkConsistency(log, previous, checkpoint);
    if (options.state) await writeSeenCheckpoint(path.resolve(io.cwd, options.state), checkpoint);
    const cosigners = witnesses.filter((w) => checkpoint.note.signatures.some((s) => verifyCosignature(checkpoint.note.body, s, w) !== undefined)).map((w) => w.name);
    const result = {
      file,
      inLog: true,
      logIndex: index,
      treeSize: checkpoint.size,
      origin: checkpoint.origin,
      consistentWith: previous?.size ?? null,
      cosignedBy: cosigners,
      logKeyPinned: pinned,
    };
    if (options.json) writeJson(io, result);
    else {
      write(io.stdout, `${file}: in the log ${checkpoint.origin} at index ${index} of ${checkpoint.size} (inclusion proven from the tiles)`);
      write(
        io.stdout,
        previous !== undefined
          ? `consistency: the tree of ${checkpoint.size} extends the tree of ${previous.size} verified before`
          : options.state
            ? `consistency: first checkpoint seen, kept in ${options.state} for the next run`
            : 'consistency: no earlier checkpoint to compare (use --state FILE)',
      );
      if (witnesses.length > 0) write(io.stdout, `cosigned by: ${cosigners.length > 0 ? cosigners.join(', ') : 'none of the given witnesses'}`);
      if (!pinned) write(io.stderr, `log key taken from ${url}/key: ${key.name}+${Buffer.from(key.keyId).toString('hex')}+… (pin it with --log-key)`);
    }
    return 0;
  } catch (error) {
    if (error instanceof LogVerificationError) {
      if (options.json) writeJson(io, { file, inLog: false, error: error.kind, message: error.message });
      else write(io.stdout, `${file}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

export interface WitnessCliOptions extends LogOptions {
  name: string;
  key: string;
  state: string;
  interval?: number;
  rounds?: number;
}

/** The witness's Ed25519 key (PKCS#8 PEM, made 0600 on first use). */
async function witnessKey(file: string): Promise<Uint8Array> {
  const { privateKey } = generateKeyPairSync('ed25519');
  await createPrivateFileIfAbsent(file, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
  const key = createPrivateKey(await readFile(file, 'utf8'));
  if (key.asymmetricKeyType !== 'ed25519') throw new CliError(`${file} is not an Ed25519 private key`);
  return new Uint8Array(key.export({ format: 'der', type: 'pkcs8' }));
}

/**
 * `c2pa-mesh log witness`: every --interval ms (once without it), fetch the log's checkpoint,
 * check from its tiles that it extends the last one this witness cosigned, cosign it
 * (cosignature/v1) and hand the cosignature to the log. A fork is reported and never cosigned;
 * the exit code is then 1.
 */
export async function runWitness(options: WitnessCliOptions, io: CliIo): Promise<number> {
  const url = logUrlOf(options, io);
  if (!options.logKey && !io.env.C2PA_MESH_LOG_KEY) throw new CliError('--log-key is required: a witness checks the log against a key it was given, never one the log hands it', 2);
  const { key: logKey } = await logKeyOf(url, options, io);
  const privateKeyPkcs8 = await witnessKey(path.resolve(io.cwd, options.key));
  const cosigner = createCosigner(options.name, privateKeyPkcs8);
  write(io.stderr, `witness ${options.name}, key ${cosigner.verifierKey} (add it to the log's MESH_LOG_WITNESSES)`);
  const rounds = options.interval ? (options.rounds ?? Infinity) : 1;
  for (let round = 0; round < rounds; round++) {
    if (round > 0) await sleep(options.interval!);
    let outcome;
    try {
      outcome = await witnessOnce({ logUrl: url, logKey, name: options.name, privateKeyPkcs8, statePath: path.resolve(io.cwd, options.state) });
    } catch (error) {
      if (error instanceof LogVerificationError) {
        write(io.stdout, `log not verified: ${error.message}`);
        if (rounds === 1) return 1;
        continue;
      }
      throw error;
    }
    if (options.json) writeJson(io, outcome);
    else if (outcome.status === 'fork') write(io.stdout, `FORK: ${outcome.reason} (checkpoint of ${outcome.size} refused; still at ${outcome.previousSize})`);
    else write(io.stdout, `cosigned tree of ${outcome.size}${outcome.previousSize === undefined ? ' (first contact)' : ` (consistent with ${outcome.previousSize})`}${outcome.accepted ? '' : '; the log did not accept the cosignature'}`);
    if (outcome.status === 'fork') return 1;
  }
  return 0;
}
