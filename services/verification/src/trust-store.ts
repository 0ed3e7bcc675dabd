import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { ConfigError } from '@c2pa-mesh/config';
import type { Logger } from 'pino';

/** What the engine trusts for one verification. */
export interface TrustConfiguration {
  /** The mesh's own C2PA root, then the operator's extra anchors: PEM certificates only. */
  trustAnchorsPem: string;
  /** End-entity certificates (PEM) and SHA-256 fingerprints trusted as they are. Undefined: none. */
  allowedCertificatesPem?: string;
}

export interface TrustStore {
  /** The configuration in force now; rereads a file that changed since the last look. */
  current(): Promise<TrustConfiguration>;
}

export interface TrustStoreOptions {
  /**
   * The mesh's C2PA root: always trusted, whatever the files say. A function is asked on first
   * use (and again after a failure) and its answer kept.
   */
  rootPem: string | (() => Promise<string>);
  /** Environment variable names are only used in messages, so operators know what to fix. */
  anchorsFile?: { path: string; variable: string };
  allowedFile?: { path: string; variable: string };
  logger: Logger;
  /** How long a look at the files stays good; 0 checks on every call. Default 1 s. */
  recheckMs?: number;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
/** A base64 SHA-256 fingerprint on its own line, as C2PA allowed lists may name certificates. */
const FINGERPRINT_LINE = /^[A-Za-z0-9+/]{43}=$/;

interface ParsedBundle {
  certificates: string[];
  fingerprints: string[];
}

/**
 * Only the certificates of a bundle reach the engine: trust-list files carry titles and comments
 * between the PEM blocks, and one unreadable block must be reported, not silently skipped.
 */
function parseBundle(text: string, withFingerprints: boolean): ParsedBundle {
  const certificates: string[] = [];
  for (const [index, block] of (text.match(PEM_CERTIFICATE) ?? []).entries()) {
    try {
      certificates.push(new X509Certificate(block).toString().trim());
    } catch (cause) {
      throw new Error(`certificate ${index + 1} is not a valid PEM certificate`, { cause });
    }
  }
  const fingerprints = withFingerprints
    ? text
        .replace(PEM_CERTIFICATE, '')
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => FINGERPRINT_LINE.test(line))
    : [];
  return { certificates, fingerprints };
}

interface WatchedFile {
  path: string;
  variable: string;
  withFingerprints: boolean;
  /** Identity of the version loaded: a replaced or rewritten file changes one of these. */
  version: string;
  bundle: ParsedBundle;
}

const versionOf = (s: { ino: number; size: number; mtimeMs: number }) => `${s.ino}:${s.size}:${s.mtimeMs}`;

function loadAtStart(spec: { path: string; variable: string }, withFingerprints: boolean): WatchedFile {
  let text: string;
  let version: string;
  try {
    text = readFileSync(spec.path, 'utf8');
    version = versionOf(statSync(spec.path));
  } catch (cause) {
    throw new ConfigError(spec.variable, `cannot read ${spec.path}: ${(cause as Error).message}`);
  }
  try {
    return { ...spec, withFingerprints, version, bundle: parseBundle(text, withFingerprints) };
  } catch (cause) {
    throw new ConfigError(spec.variable, `${spec.path}: ${(cause as Error).message}`);
  }
}

function configurationOf(rootPem: string, anchors: WatchedFile | undefined, allowed: WatchedFile | undefined): TrustConfiguration {
  const anchorPems = [new X509Certificate(rootPem).toString().trim(), ...(anchors?.bundle.certificates ?? [])];
  const configuration: TrustConfiguration = { trustAnchorsPem: `${[...new Set(anchorPems)].join('\n')}\n` };
  if (allowed !== undefined && allowed.bundle.certificates.length + allowed.bundle.fingerprints.length > 0) {
    configuration.allowedCertificatesPem = `${[...allowed.bundle.certificates, ...allowed.bundle.fingerprints].join('\n')}\n`;
  }
  return configuration;
}

/**
 * The trust configuration: the mesh's C2PA root always, plus the anchors and allowed certificates
 * of the operator's PEM files. A file is reread when it changes (checked at most once per
 * `recheckMs`, on use: no timers, nothing to stop), so an operator updates the trust list without
 * a restart. A file unreadable at start-up stops the start; a bad edit later keeps the last good
 * version in force and is logged.
 */
export function createTrustStore(options: TrustStoreOptions): TrustStore {
  const recheckMs = options.recheckMs ?? 1000;
  let anchors = options.anchorsFile && loadAtStart(options.anchorsFile, false);
  let allowed = options.allowedFile && loadAtStart(options.allowedFile, true);
  let rootPem = typeof options.rootPem === 'string' ? options.rootPem : undefined;
  let configuration = rootPem === undefined ? undefined : configurationOf(rootPem, anchors, allowed);
  let checkedAt = Date.now();
  let checking: Promise<void> | undefined;
  let fetchingRoot: Promise<TrustConfiguration> | undefined;

  async function withRoot(): Promise<TrustConfiguration> {
    if (configuration !== undefined) return configuration;
    fetchingRoot ??= (async () => {
      try {
        rootPem = await (options.rootPem as () => Promise<string>)();
        configuration = configurationOf(rootPem, anchors, allowed);
        return configuration;
      } finally {
        fetchingRoot = undefined;
      }
    })();
    return fetchingRoot;
  }

  async function refreshed(file: WatchedFile): Promise<WatchedFile> {
    try {
      const version = versionOf(await stat(file.path));
      if (version === file.version) return file;
      const bundle = parseBundle(await readFile(file.path, 'utf8'), file.withFingerprints);
      options.logger.info(
        { file: file.path, certificates: bundle.certificates.length, fingerprints: bundle.fingerprints.length },
        `trust file reloaded (${file.variable})`,
      );
      return { ...file, version, bundle };
    } catch (err) {
      options.logger.error({ err, file: file.path }, `trust file ${file.variable} could not be reloaded; the previous version stays in force`);
      return file;
    }
  }

  async function check(): Promise<void> {
    const [nextAnchors, nextAllowed] = await Promise.all([anchors && refreshed(anchors), allowed && refreshed(allowed)]);
    if (nextAnchors !== anchors || nextAllowed !== allowed) {
      anchors = nextAnchors;
      allowed = nextAllowed;
      if (rootPem !== undefined) configuration = configurationOf(rootPem, anchors, allowed);
    }
    checkedAt = Date.now();
  }

  return {
    async current() {
      if ((anchors !== undefined || allowed !== undefined) && Date.now() - checkedAt >= recheckMs) {
        checking ??= check().finally(() => (checking = undefined));
        await checking;
      }
      return withRoot();
    },
  };
}
