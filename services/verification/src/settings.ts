import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { ConfigError } from '@c2pa-mesh/config';

/** Operator settings of the Verification service, read once at start-up from the environment. */
export interface VerificationSettings {
  /** PEM bundle of extra trust anchors (e.g. the official C2PA trust list); reread when it changes. */
  trustAnchorsFile?: string;
  /** PEM bundle of end-entity certificates trusted as they are; reread when it changes. */
  allowedCertificatesFile?: string;
  /** Upper bound on one verification (queue wait and engine run), in milliseconds. */
  verifyTimeoutMs: number;
  /** Items of one VerifyBatch verified at the same time. */
  batchConcurrency: number;
  url: UrlFetchSettings;
}

export interface UrlFetchSettings {
  /**
   * Host names, IP addresses and CIDR ranges VerifyUrl may reach even though they are not public
   * (loopback, private, link-local, ...). Empty: public addresses only.
   */
  allowHosts: string[];
  /** Plain http:// URLs are fetched too (tests, closed networks). Default: https only. */
  allowHttp: boolean;
  /** Redirects followed, each one checked like the first URL. */
  maxRedirects: number;
  /** Total time for resolving, connecting, redirects and reading the body, in milliseconds. */
  timeoutMs: number;
}

export const DEFAULT_VERIFICATION_SETTINGS: VerificationSettings = {
  verifyTimeoutMs: 30_000,
  batchConcurrency: 4,
  url: { allowHosts: [], allowHttp: false, maxRedirects: 5, timeoutMs: 20_000 },
};

function positiveInt(env: Record<string, string | undefined>, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0 || value > max) {
    throw new ConfigError(name, `expected a whole number from 1 to ${max}, got "${raw}"`);
  }
  return value;
}

function flag(env: Record<string, string | undefined>, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false' || raw === 'no') return false;
  if (raw === '1' || raw === 'true' || raw === 'yes') return true;
  throw new ConfigError(name, `expected 1/true/yes or 0/false/no, got "${env[name]}"`);
}

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

function allowHosts(env: Record<string, string | undefined>, name: string): string[] {
  const entries = (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const entry of entries) {
    const bare = entry.replace(/^\[(.*)\]$/, '$1');
    if (ipaddr.isValid(bare) || ipaddr.isValidCIDR(bare) || HOST_NAME.test(bare)) continue;
    throw new ConfigError(name, `"${entry}" is not a host name, an IP address or a CIDR range`);
  }
  return entries.map((e) => e.replace(/^\[(.*)\]$/, '$1').toLowerCase());
}

function file(env: Record<string, string | undefined>, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw ? path.resolve(raw) : undefined;
}

/** Reads the settings; throws ConfigError naming the first bad variable. */
export function verificationSettingsFromEnv(env: Record<string, string | undefined>): VerificationSettings {
  const defaults = DEFAULT_VERIFICATION_SETTINGS;
  return {
    trustAnchorsFile: file(env, 'MESH_TRUST_ANCHORS_FILE'),
    allowedCertificatesFile: file(env, 'MESH_ALLOWED_CERTIFICATES_FILE'),
    verifyTimeoutMs: positiveInt(env, 'MESH_VERIFY_TIMEOUT_MS', defaults.verifyTimeoutMs, 600_000),
    batchConcurrency: positiveInt(env, 'MESH_VERIFY_BATCH_CONCURRENCY', defaults.batchConcurrency, 64),
    url: {
      allowHosts: allowHosts(env, 'MESH_VERIFY_URL_ALLOW_HOSTS'),
      allowHttp: flag(env, 'MESH_VERIFY_URL_ALLOW_HTTP'),
      maxRedirects: defaults.url.maxRedirects,
      timeoutMs: positiveInt(env, 'MESH_VERIFY_URL_TIMEOUT_MS', defaults.url.timeoutMs, 600_000),
    },
  };
}
