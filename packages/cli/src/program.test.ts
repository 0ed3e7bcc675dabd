import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from './program.js';

async function run(args: string[], env: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const code = await runCli(['node', 'c2pa-mesh', ...args], { stdout, stderr, env, cwd: process.cwd() });
  return { code, out, err };
}

describe('runCli exit codes', () => {
  it('0 for help and version', async () => {
    expect((await run(['--help'])).code).toBe(0);
    const version = await run(['--version']);
    expect(version.code).toBe(0);
    expect(version.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('2 for usage errors: a missing argument, a bad number, an unknown command or choice', async () => {
    for (const args of [['sign'], ['verify', 'a.jpg', '--concurrency', 'many'], ['frobnicate'], ['certs', 'issue', '--profile', 'NOPE'], ['sign-hash', 'sha256:00']]) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.err).not.toBe('');
    }
  });

  it('1 with the reason when the mesh CA certificate is missing', async () => {
    const result = await run(['projects', 'list', '--data-dir', '/nonexistent-c2pa-mesh']);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^c2pa-mesh: cannot read the mesh CA certificate at \/nonexistent-c2pa-mesh\/pki\/mesh-ca\.pem \(ENOENT\)/);
  });

  it('2 for a URL that is not https', async () => {
    const result = await run(['projects', 'list', '--url', 'http://127.0.0.1:8443']);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/must be an https:\/\/ URL/);
  });
});
