import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { isSignableFormat, normalizeFormat, READABLE_FORMATS, sniffFormat } from '@c2pa-mesh/engine';
import { CliError } from './io.js';

export interface MediaFile {
  /** Absolute path. */
  path: string;
  /** What to show and where to write it under --out: relative to the argument it came from. */
  displayPath: string;
}

function formatOfExtension(file: string): string | undefined {
  const extension = path.extname(file).slice(1);
  if (!extension) return undefined;
  try {
    return normalizeFormat(extension);
  } catch {
    return undefined;
  }
}

/** Which files a directory walk takes: every format the mesh reads, or only those it signs. */
export type MediaSelection = 'readable' | 'signable';

async function walk(root: string, dir: string, into: MediaFile[], selection: MediaSelection): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    // Hidden files and folders (.git, .DS_Store) are never media to sign.
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await walk(root, full, into, selection);
    else if (entry.isFile() && selects(formatOfExtension(entry.name), selection)) {
      into.push({ path: full, displayPath: path.join(path.basename(root), path.relative(root, full)) });
    }
  }
}

const selects = (format: string | undefined, selection: MediaSelection) =>
  format !== undefined && (selection === 'readable' || isSignableFormat(format));

/**
 * The files named on the command line, directories walked (media files only, by extension, in
 * name order; when signing, only formats the mesh signs, so a `.c2pa` sidecar next to the media
 * is left alone); a file named explicitly is taken whatever its name.
 */
export async function collectMediaFiles(args: readonly string[], cwd: string, selection: MediaSelection = 'readable'): Promise<MediaFile[]> {
  const files: MediaFile[] = [];
  for (const arg of args) {
    const full = path.resolve(cwd, arg);
    const info = await stat(full).catch(() => undefined);
    if (!info) throw new CliError(`no such file or directory: ${arg}`);
    if (info.isDirectory()) await walk(full, full, files, selection);
    else files.push({ path: full, displayPath: path.basename(full) });
  }
  const seen = new Set<string>();
  return files.filter((file) => !seen.has(file.path) && seen.add(file.path));
}

/** The file's MIME type: as told, else by its extension, else by its first bytes. */
export async function formatOf(file: string, declared: string | undefined): Promise<string> {
  if (declared) return normalizeFormat(declared);
  const byName = formatOfExtension(file);
  if (byName) return byName;
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const sniffed = sniffFormat(head.subarray(0, bytesRead));
    if (sniffed) return sniffed;
  } finally {
    await handle.close();
  }
  const extension = path.extname(file);
  if (extension) {
    throw new CliError(
      `cannot tell the format of ${path.basename(file)}: ${extension} is none of the formats the mesh supports (${READABLE_FORMATS.join(', ')}); pass --format if the file is one of them`,
    );
  }
  throw new CliError(`cannot tell the format of ${path.basename(file)}; pass --format (e.g. image/jpeg)`);
}
