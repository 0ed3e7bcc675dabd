import { createHash } from 'node:crypto';
import { signingV1 } from '@c2pa-mesh/proto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pMap from 'p-map';
import { createBatchProgress } from '../batch.js';
import { connect, type ConnectionOptions } from '../connection.js';
import { describeFailure } from '../errors.js';
import { CliError, formatBytes, formatSeconds, write, writeJson, type CliIo } from '../io.js';
import { createByteProgress, isLargeFile, signLargeFile } from '../large-files.js';
import { collectMediaFiles, formatOf } from '../media-files.js';

export interface SignOptions extends ConnectionOptions {
  manifest?: string;
  format?: string;
  out: string;
  title?: string;
  signer?: string;
  project?: string;
  tag?: string[];
  intent?: 'create' | 'edit' | 'update';
  concurrency: number;
  json?: boolean;
  quiet?: boolean;
}

export interface SignOutcome {
  file: string;
  ok: boolean;
  output?: string;
  format?: string;
  inputBytes?: number;
  signedBytes?: number;
  assetId?: string;
  assetSha256?: string;
  activeManifest?: string;
  /** The intent the manifest was made with: create, edit or update. */
  intent?: string;
  durationMs: number;
  error?: string;
}

const INTENTS = { create: signingV1.SignIntent.CREATE, edit: signingV1.SignIntent.EDIT, update: signingV1.SignIntent.UPDATE } as const;
const intentName = (intent: signingV1.SignIntent) => Object.entries(INTENTS).find(([, value]) => value === intent)?.[0];

async function readManifest(file: string | undefined, cwd: string): Promise<string> {
  if (!file) return '';
  const text = await readFile(path.resolve(cwd, file), 'utf8').catch((cause: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read the manifest ${file}: ${cause.code ?? cause.message}`, 2);
  });
  try {
    JSON.parse(text);
  } catch (cause) {
    throw new CliError(`the manifest ${file} is not valid JSON: ${(cause as Error).message}`, 2);
  }
  return text;
}

/**
 * `c2pa-mesh sign FILE…`: signs each file (directories walked) with bounded concurrency, writes
 * the signed copies under --out keeping their relative paths, continues past failures and ends
 * with a summary. Exit code 1 when any file failed.
 */
export async function signFiles(args: string[], options: SignOptions, io: CliIo): Promise<number> {
  const manifestJson = await readManifest(options.manifest, io.cwd);
  const files = await collectMediaFiles(args, io.cwd, 'signable');
  if (files.length === 0) throw new CliError(`no media files in ${args.join(' ')}`);
  const outDir = path.resolve(io.cwd, options.out);
  const mesh = connect(options, io);
  const progress = createBatchProgress(io, { label: 'signing', quiet: Boolean(options.json || options.quiet), lineStream: 'stdout' });
  const started = performance.now();
  progress.start(files.length);

  const outcomes = await pMap(files, async (file): Promise<SignOutcome> => {
    const fileStarted = performance.now();
    const output = path.join(outDir, file.displayPath);
    let outcome: SignOutcome;
    try {
      if (output === file.path) throw new CliError('the output would overwrite the input; choose another --out');
      const format = await formatOf(file.path, options.format);
      const request = {
        format,
        manifestJson,
        title: options.title ?? path.basename(file.path),
        signerId: options.signer ?? '',
        projectId: options.project ?? '',
        tags: options.tag ?? [],
        intent: options.intent === undefined ? signingV1.SignIntent.UNSPECIFIED : INTENTS[options.intent],
      };
      await mkdir(path.dirname(output), { recursive: true });
      let signed: { inputBytes: number; signedBytes: number; assetId: string; assetSha256: string; activeManifestLabel: string; intent: signingV1.SignIntent };
      if (await isLargeFile(file.path, io)) {
        // In pieces both ways, never whole in memory; a bar of bytes when it is the only file.
        const inputBytes = (await stat(file.path)).size;
        const bytes = createByteProgress(io, { label: 'signing', file: file.displayPath, totalBytes: 2 * inputBytes, quiet: Boolean(options.json || options.quiet) || files.length > 1 });
        try {
          const large = await signLargeFile(mesh, file.path, output, request, bytes);
          signed = { ...large, ...large.result, intent: large.result.intent };
        } finally {
          bytes.stop();
        }
      } else {
        const asset = await readFile(file.path);
        const result = await mesh.signing.sign({ asset, ...request });
        await writeFile(output, result.signedAsset);
        const written = `sha256:${createHash('sha256').update(result.signedAsset).digest('hex')}`;
        if (written !== result.assetSha256) throw new CliError(`the signed file's SHA-256 is ${written}, the mesh registered ${result.assetSha256}`);
        signed = { ...result, inputBytes: asset.length, signedBytes: result.signedAsset.length };
      }
      outcome = {
        file: file.displayPath,
        ok: true,
        output: path.relative(io.cwd, output) || output,
        format,
        inputBytes: signed.inputBytes,
        signedBytes: signed.signedBytes,
        assetId: signed.assetId,
        assetSha256: signed.assetSha256,
        activeManifest: signed.activeManifestLabel,
        intent: intentName(signed.intent),
        durationMs: Math.round(performance.now() - fileStarted),
      };
    } catch (error) {
      outcome = { file: file.displayPath, ok: false, error: describeFailure(error, mesh.url), durationMs: Math.round(performance.now() - fileStarted) };
    }
    progress.done(
      file.displayPath,
      outcome.ok
        ? `signed ${outcome.file} -> ${outcome.output} (${outcome.intent ? `${outcome.intent}, ` : ''}${formatBytes(outcome.signedBytes!)}, ${formatSeconds(outcome.durationMs)})`
        : `FAILED ${outcome.file}: ${outcome.error}`,
    );
    return outcome;
  }, { concurrency: Math.max(1, options.concurrency) });
  progress.stop();

  const elapsedMs = performance.now() - started;
  const failed = outcomes.filter((o) => !o.ok);
  const summary = { files: outcomes.length, signed: outcomes.length - failed.length, failed: failed.length, durationMs: Math.round(elapsedMs), outDir };
  if (options.json) {
    writeJson(io, { results: outcomes, summary });
  } else {
    // The bar showed progress only: name the failures now, below it.
    if (io.stderr.isTTY && !options.quiet) for (const o of failed) write(io.stdout, `FAILED ${o.file}: ${o.error}`);
    const rate = outcomes.length / Math.max(elapsedMs / 1000, 0.001);
    write(io.stdout, `signed ${summary.signed} of ${summary.files} files in ${formatSeconds(elapsedMs)} (${rate.toFixed(1)} files/s), ${summary.failed} failed; signed copies in ${path.relative(io.cwd, outDir) || '.'}`);
  }
  return failed.length > 0 ? 1 : 0;
}
