import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RegistryService } from '@c2pa-mesh/proto';
import { meshClient } from '../support/mesh-clients.js';
import type { MeshProcess } from '../support/start-mesh.js';

/** With DATABASE_URL the mesh process shares that database with other runs: names must not collide. */
export const unique = (name: string) => `${name} ${randomBytes(4).toString('hex')}`;

export const adminRegistry = (mesh: MeshProcess) =>
  meshClient(RegistryService, mesh.url, { caPath: mesh.files.meshCa, certPath: mesh.files.adminCert, keyPath: mesh.files.adminKey });

/** A project and an API key in it, made with the admin certificate as an operator would. */
export async function createProjectKey(mesh: MeshProcess, options: { scopes?: string[]; maxAssetBytes?: bigint; requestsPerMinute?: number; name?: string } = {}) {
  const admin = adminRegistry(mesh);
  const { projectId } = await admin.createProject({ name: unique(options.name ?? 'Gateway') });
  const { key, keyId } = await admin.createApiKey({
    projectId,
    name: 'integration',
    scopes: options.scopes ?? ['sign', 'verify'],
    maxAssetBytes: options.maxAssetBytes ?? 0n,
    requestsPerMinute: options.requestsPerMinute ?? 0,
  });
  return { projectId, key, keyId };
}

export interface CurlResult {
  exitCode: number;
  status: number;
  /** Response headers, names in lower case (the last response's, after any 100 Continue). */
  headers: Record<string, string>;
  body: Buffer;
  stderr: string;
  json<T = any>(): T;
}

/**
 * Runs a real curl process. `args` are curl's arguments as a user types them; this adds only
 * where the answer goes (-sS, -D, -o) so the test can read status, headers and body.
 */
export async function curl(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CurlResult> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-curl-'));
  try {
    const headerFile = path.join(scratch, 'headers');
    const bodyFile = path.join(scratch, 'body');
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile('curl', ['-sS', '-D', headerFile, '-o', bodyFile, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr: String(stderr) });
      });
    });
    const rawHeaders = await readFile(headerFile, 'utf8').catch(() => '');
    const blocks = rawHeaders.split(/\r?\n\r?\n/).filter((b) => /^HTTP\//.test(b));
    const last = blocks[blocks.length - 1] ?? '';
    const headers: Record<string, string> = {};
    for (const line of last.split(/\r?\n/).slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const body = await readFile(bodyFile).catch(() => Buffer.alloc(0));
    return {
      exitCode: code,
      status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(last)?.[1] ?? 0),
      headers,
      body,
      stderr,
      json: () => JSON.parse(body.toString('utf8')),
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Runs a command exactly as a reference document prints it, through the shell, after changing
 * only the base URL and the key. The mesh's dev CA is trusted through CURL_CA_BUNDLE, so the
 * command line itself stays as printed.
 */
export function runDocumentedCommand(command: string, replacements: Record<string, string>, options: { cwd: string; caFile: string }): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  let line = command;
  for (const [from, to] of Object.entries(replacements)) line = line.split(from).join(to);
  return new Promise((resolve) => {
    execFile('bash', ['-c', line], { cwd: options.cwd, env: { ...process.env, CURL_CA_BUNDLE: options.caFile }, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: stdout as Buffer, stderr: String(stderr) });
    });
  });
}
