import { readFile, stat } from 'node:fs/promises';
import { Code, ConnectError } from '@connectrpc/connect';
import { verificationV1 } from '@c2pa-mesh/proto';
import pMap from 'p-map';
import { createBatchProgress } from '../batch.js';
import { connect, type ConnectionOptions } from '../connection.js';
import { describeFailure } from '../errors.js';
import { CliError, formatSeconds, formatTable, write, writeJson, type CliIo } from '../io.js';
import { createByteProgress, isLargeFile, verifyLargeFile } from '../large-files.js';
import { collectMediaFiles } from '../media-files.js';
import { normalizeFormat } from '@c2pa-mesh/engine';

export interface VerifyOptions extends ConnectionOptions {
  format?: string;
  concurrency: number;
  requireTrusted?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export type VerificationState = 'Trusted' | 'Valid' | 'Invalid' | 'No manifest' | 'Failed';

export interface VerifyOutcome {
  file: string;
  state: VerificationState;
  signer?: string;
  signedAt?: string;
  /** Why it is not Trusted: the first error code and its explanation, or the failure. */
  reason?: string;
  errors?: string[];
  registered?: boolean;
  certificateStatus?: string;
  /** The provenance chain: each ingredient's title, relationship, signer and state. */
  ingredients?: Array<{ title?: string; relationship: string; signer?: string; state?: VerificationState }>;
  durationMs: number;
}

const STATES: Record<number, VerificationState> = {
  [verificationV1.ValidationState.TRUSTED]: 'Trusted',
  [verificationV1.ValidationState.VALID]: 'Valid',
  [verificationV1.ValidationState.INVALID]: 'Invalid',
};

/**
 * `c2pa-mesh verify FILE…`: verifies each file (directories walked) and prints a table: file,
 * state, signer, time, reason. Exit code 1 when any file is Invalid, has no manifest or could not
 * be verified (with --require-trusted, also when one is only Valid).
 */
export async function verifyFiles(args: string[], options: VerifyOptions, io: CliIo): Promise<number> {
  const files = await collectMediaFiles(args, io.cwd);
  if (files.length === 0) throw new CliError(`no media files in ${args.join(' ')}`);
  const format = options.format ? normalizeFormat(options.format) : '';
  const mesh = connect(options, io);
  const progress = createBatchProgress(io, { label: 'verifying', quiet: Boolean(options.json || options.quiet), lineStream: 'stderr' });
  const started = performance.now();
  progress.start(files.length);

  const outcomes = await pMap(files, async (file): Promise<VerifyOutcome> => {
    const fileStarted = performance.now();
    let outcome: VerifyOutcome;
    try {
      let result: verificationV1.VerifyResponse;
      if (await isLargeFile(file.path, io)) {
        // Sent in pieces, never whole in memory; a bar of bytes when it is the only file.
        const bytes = createByteProgress(io, { label: 'verifying', file: file.displayPath, totalBytes: (await stat(file.path)).size, quiet: Boolean(options.json || options.quiet) || files.length > 1 });
        try {
          result = await verifyLargeFile(mesh, file.path, format, bytes);
        } finally {
          bytes.stop();
        }
      } else {
        result = await mesh.verification.verify({ asset: await readFile(file.path), format });
      }
      const noManifest = result.manifestStoreJson === '';
      // `signingCredential.untrusted` accompanies most failures; the decisive entry is another one.
      const first = result.errors.find((e) => e.code !== 'signingCredential.untrusted') ?? result.errors[0];
      outcome = {
        file: file.displayPath,
        state: noManifest ? 'No manifest' : (STATES[result.validationState] ?? 'Invalid'),
        signer: result.signer || undefined,
        signedAt: result.signedAt || undefined,
        reason: noManifest ? 'the file carries no C2PA manifest' : first ? [first.code, first.explanation].filter(Boolean).join(': ') : undefined,
        errors: result.errors.map((e) => e.code),
        registered: result.registered,
        certificateStatus: result.certificateStatus || undefined,
        ingredients: result.ingredients.map((i) => ({
          title: i.title || undefined,
          relationship: i.relationship,
          signer: i.signer || undefined,
          state: i.activeManifestLabel === '' ? 'No manifest' : (STATES[i.validationState] ?? 'Invalid'),
        })),
        durationMs: Math.round(performance.now() - fileStarted),
      };
    } catch (error) {
      // Verify answers not_found for a file that carries no manifest at all.
      const noManifest = error instanceof ConnectError && error.code === Code.NotFound;
      outcome = {
        file: file.displayPath,
        state: noManifest ? 'No manifest' : 'Failed',
        reason: noManifest ? (error as ConnectError).rawMessage : describeFailure(error, mesh.url),
        durationMs: Math.round(performance.now() - fileStarted),
      };
    }
    progress.done(file.displayPath, `${outcome.file}: ${outcome.state}${outcome.reason ? ` (${outcome.reason})` : ''}`);
    return outcome;
  }, { concurrency: Math.max(1, options.concurrency) });
  progress.stop();

  const count = (state: VerificationState) => outcomes.filter((o) => o.state === state).length;
  const summary = {
    files: outcomes.length,
    trusted: count('Trusted'),
    valid: count('Valid'),
    invalid: count('Invalid'),
    noManifest: count('No manifest'),
    failed: count('Failed'),
    durationMs: Math.round(performance.now() - started),
  };
  if (options.json) {
    writeJson(io, { results: outcomes, summary });
  } else {
    const rows = outcomes.map((o) => [o.file, o.state, o.signer ?? '', o.signedAt ?? '', o.reason ?? '']);
    write(io.stdout, formatTable(['FILE', 'STATE', 'SIGNER', 'TIME', 'REASON'], rows));
    write(
      io.stdout,
      `verified ${summary.files} files in ${formatSeconds(summary.durationMs)}: ${summary.trusted} Trusted, ${summary.valid} Valid, ${summary.invalid} Invalid, ${summary.noManifest} without manifest, ${summary.failed} failed`,
    );
  }
  const bad = summary.invalid + summary.noManifest + summary.failed + (options.requireTrusted ? summary.valid : 0);
  return bad > 0 ? 1 : 0;
}
