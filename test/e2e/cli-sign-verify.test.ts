import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, removeDir } from '../support/cleanup.js';
import { FIXTURES, REPO_ROOT, freePort, startMeshProcess, type MeshProcess } from '../support/start-mesh.js';
import { unique } from './gateway-support.js';

const BIN = path.join(REPO_ROOT, 'node_modules/.bin/c2pa-mesh');
const TEN_FORMATS = ['no_manifest.jpg', 'sample1.png', 'sample1.webp', 'test.tiff', 'sample1.avif', 'video1_no_manifest.mp4', 'sample1.mp3', 'sample1.wav', 'sample1.flac', 'sample1.m4a'];
/** One file of each further format the mesh signs, and the format the CLI sends for it. */
const FURTHER_FORMATS: Record<string, string> = {
  'sample1.heic': 'image/heic',
  'video1.mov': 'video/quicktime',
  'video1.m4v': 'video/x-m4v',
  'sample1.dng': 'image/x-adobe-dng',
  'sample1.gif': 'image/gif',
  'sample1.svg': 'image/svg+xml',
  'video1.avi': 'video/avi',
  'sample1.jxl': 'image/jxl',
  'sample1.pdf': 'application/pdf',
};

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(file: string, args: string[], options: { cwd: string; env: Record<string, string> }): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Quotes one argument for the shell `script` runs the command in. */
const shellQuote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

// CI's time budget: this file drives a client surface (the CLI) end to end, and the mesh behind it
// stores nothing here that other files do not test on both databases. CI runs it in its embedded
// database pass (the README's own default) and not again in the PostgreSQL pass.
const postgresPassInCi = Boolean(process.env.CI) && Boolean(process.env.DATABASE_URL);
if (postgresPassInCi) console.warn('cli-sign-verify.test.ts: run in the embedded-database pass only');

describe.skipIf(postgresPassInCi)('the c2pa-mesh CLI against a running mesh', () => {
  let mesh: MeshProcess;
  let scratch: string;
  let projectId: string;
  // The CLI finds the mesh the way an operator's shell does: the data dir and the URL.
  const env = () => ({ MESH_DATA_DIR: mesh.dataDir, C2PA_MESH_URL: mesh.url });
  const cli = (args: string[], extraEnv: Record<string, string> = {}) => exec(BIN, args, { cwd: scratch, env: { ...env(), ...extraEnv } });

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-cli-e2e-'));
    mesh = await startMeshProcess();
    await mkdir(path.join(scratch, 'media'));
    for (const file of TEN_FORMATS) await copyFile(path.join(FIXTURES, file), path.join(scratch, 'media', file));
    const created = await cli(['projects', 'create', unique('CLI'), '--json']);
    expect(created.code, created.stderr).toBe(0);
    projectId = JSON.parse(created.stdout).projectId;
  });
  afterAll(() => cleanUp({ mesh: () => mesh?.stop(), scratch: () => removeDir(scratch) }));

  it('prints its help through npx, exit 0', async () => {
    const help = await exec('npx', ['c2pa-mesh', '--help'], { cwd: REPO_ROOT, env: {} });
    expect(help.code).toBe(0);
    for (const command of ['sign', 'verify', 'sign-hash', 'keys', 'projects', 'certs', 'audit', 'stats']) expect(help.stdout).toContain(command);
  });

  it('signs a directory of the ten formats (non-terminal: one line per file, then a summary) and verifies them in a table', async () => {
    const sign = await cli(['sign', 'media', '--out', 'signed', '--project', projectId]);
    expect(sign.code, sign.stdout + sign.stderr).toBe(0);
    const lines = sign.stdout.trim().split('\n');
    expect(lines).toHaveLength(11);
    for (const line of lines.slice(0, 10)) expect(line).toMatch(/^\[\s?\d+\/10\] signed media\/\S+ -> signed\/media\/\S+ \(create, [\d.]+ (KB|MB), [\d.]+ m?s\)$/);
    expect(lines[10]).toMatch(/^signed 10 of 10 files in [\d.]+ m?s \([\d.]+ files\/s\), 0 failed; signed copies in signed$/);
    expect((await readdir(path.join(scratch, 'signed/media'))).sort()).toEqual([...TEN_FORMATS].sort());

    const verify = await cli(['verify', 'signed']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const table = verify.stdout.trim().split('\n');
    expect(table[0]).toMatch(/^FILE\s+STATE\s+SIGNER\s+TIME\s+REASON$/);
    const rows = table.slice(2, 12);
    expect(rows).toHaveLength(10);
    for (const row of rows) expect(row).toMatch(/^signed\/media\/\S+\s+Trusted\s+c2pa-mesh default signer\s+\d{4}-\d\d-\d\dT/);
    expect(table[12]).toMatch(/^verified 10 files in .*: 10 Trusted, 0 Valid, 0 Invalid, 0 without manifest, 0 failed$/);
    // Progress went to stderr, one line per file.
    expect(verify.stderr.trim().split('\n')).toHaveLength(10);
  });

  it('draws a progress bar with rate and ETA on a terminal', async () => {
    const command = [BIN, 'sign', 'media', '--out', 'signed-tty', '--project', projectId].map(shellQuote).join(' ');
    // `script` gives the CLI a pseudo-terminal, as a person's shell would.
    const tty = await exec('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd: scratch, env: env() });
    expect(tty.code, tty.stdout).toBe(0);
    expect(tty.stdout).toMatch(/signing [█░]+ 100% \| 10\/10 files \| [\d.]+ files\/s \| ETA \d+s \|/);
    expect(tty.stdout).toMatch(/signing [█░]+ 0% \| 0\/10 files/);
    expect(tty.stdout).toContain('\u001b['); // the bar redraws itself in place
    expect(tty.stdout).not.toMatch(/\[\s?\d+\/10\] signed/); // no per-file lines on a terminal
    expect(tty.stdout).toMatch(/signed 10 of 10 files in .*0 failed/);
  });

  it('streams a large file both ways (above C2PA_MESH_STREAM_ABOVE_BYTES) with a bar of bytes on a terminal, and verifies it the same way', async () => {
    await mkdir(path.join(scratch, 'large'));
    await copyFile(path.join(FIXTURES, 'sample1.wav'), path.join(scratch, 'large', 'long.wav'));
    const streamAbove = { C2PA_MESH_STREAM_ABOVE_BYTES: String(64 * 1024) };
    const command = [BIN, 'sign', 'large/long.wav', '--out', 'signed-large', '--project', projectId].map(shellQuote).join(' ');
    const tty = await exec('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd: scratch, env: { ...env(), ...streamAbove } });
    expect(tty.code, tty.stdout).toBe(0);
    // Sent and received: twice the file's 1.0 MB.
    expect(tty.stdout).toMatch(/signing [█░]+ \d+% \| [\d.]+\/2\.0 MB \| ETA/);
    expect(tty.stdout).toMatch(/signed 1 of 1 files in .*0 failed/);
    const verify = await cli(['verify', 'signed-large/long.wav', '--json'], streamAbove);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout).results[0]).toMatchObject({ file: 'long.wav', state: 'Trusted' });
    const signed = await readFile(path.join(scratch, 'signed-large', 'long.wav'));
    expect(signed.length).toBeGreaterThan(1_073_218);
    // Not on a terminal: no bar, the line per file as before.
    const plain = await cli(['verify', 'signed-large/long.wav'], streamAbove);
    expect(plain.stderr).not.toContain('█');
  });

  it('signs a directory of the further formats, each by its extension, leaving a manifest store sidecar alone; all verify Trusted', async () => {
    await mkdir(path.join(scratch, 'more'));
    for (const file of Object.keys(FURTHER_FORMATS)) await copyFile(path.join(FIXTURES, file), path.join(scratch, 'more', file));
    await writeFile(path.join(scratch, 'more', 'sidecar.c2pa'), 'not signed: a manifest store');
    const sign = await cli(['sign', 'more', '--out', 'signed-more', '--project', projectId, '--json']);
    expect(sign.code, sign.stdout + sign.stderr).toBe(0);
    const signed = JSON.parse(sign.stdout) as { results: Array<{ file: string; ok: boolean; format: string }>; summary: { files: number; signed: number } };
    expect(signed.summary).toMatchObject({ files: 9, signed: 9 });
    expect(Object.fromEntries(signed.results.map((r) => [r.file, r.format]))).toEqual(Object.fromEntries(Object.entries(FURTHER_FORMATS).map(([file, format]) => [`more/${file}`, format])));

    const verify = await cli(['verify', 'signed-more', '--json', '--require-trusted']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const { results, summary } = JSON.parse(verify.stdout);
    expect(summary).toMatchObject({ files: 9, trusted: 9 });
    for (const result of results) expect(result).toMatchObject({ state: 'Trusted', signer: 'c2pa-mesh default signer' });
  });

  it('continues past failures, reports them and exits 1', async () => {
    await mkdir(path.join(scratch, 'mixed'));
    await copyFile(path.join(FIXTURES, 'sample1.png'), path.join(scratch, 'mixed/good.png'));
    await writeFile(path.join(scratch, 'mixed/broken.jpg'), (await readFile(path.join(FIXTURES, 'no_manifest.jpg'))).subarray(0, 50));
    await writeFile(path.join(scratch, 'notes.txt'), 'not a media file');
    const sign = await cli(['sign', 'mixed', 'notes.txt', '--out', 'signed-mixed', '--project', projectId, '--json']);
    expect(sign.code).toBe(1);
    const { results, summary } = JSON.parse(sign.stdout);
    expect(summary).toMatchObject({ files: 3, signed: 1, failed: 2 });
    expect(results.find((r: { file: string }) => r.file === 'mixed/good.png')).toMatchObject({ ok: true, format: 'image/png' });
    expect(results.find((r: { file: string }) => r.file === 'mixed/broken.jpg')).toMatchObject({ ok: false, error: expect.stringMatching(/invalid_argument/) });
    expect(results.find((r: { file: string }) => r.file === 'notes.txt')).toMatchObject({ ok: false, error: expect.stringMatching(/cannot tell the format of notes\.txt/) });
  });

  it('re-signs a file with Content Credentials as an edit by default, or as new content with --intent create', async () => {
    const cJpg = path.join(FIXTURES, 'C.jpg');
    const edited = await cli(['sign', cJpg, '--out', 'resigned-edit', '--project', projectId, '--json']);
    expect(edited.code, edited.stderr).toBe(0);
    expect(JSON.parse(edited.stdout).results[0]).toMatchObject({ ok: true, intent: 'edit' });
    const created = await cli(['sign', cJpg, '--out', 'resigned-create', '--project', projectId, '--intent', 'create']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/signed C\.jpg -> resigned-create\/C\.jpg \(create, /);
    const verified = await cli(['verify', 'resigned-edit', 'resigned-create', '--json', '--require-trusted']);
    expect(verified.code, verified.stdout).toBe(0);
    const byFile = Object.fromEntries(JSON.parse(verified.stdout).results.map((r: { file: string; ingredients: unknown[] }) => [r.file, r.ingredients]));
    expect(byFile['resigned-edit/C.jpg']).toEqual([{ title: 'C.jpg', relationship: 'parentOf', signer: 'C2PA Signer', state: 'Valid' }]);
    expect(byFile['resigned-create/C.jpg']).toEqual([]);

    await writeFile(path.join(scratch, 'no-actions.json'), JSON.stringify({ title: 'no actions' }));
    const refused = await cli(['sign', cJpg, '--out', 'resigned-refused', '--project', projectId, '--intent', 'create', '--manifest', 'no-actions.json']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/FAILED C\.jpg: invalid_argument: intent CREATE: a digitalSourceType is required for new content/);
    const unknown = await cli(['sign', cJpg, '--intent', 'remix']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/option '--intent <intent>' argument 'remix' is invalid\. Allowed choices are create, edit, update/);
  });

  it('verifies with --json and exits 1 for an Invalid file and one without a manifest', async () => {
    const verify = await cli(['verify', path.join(FIXTURES, 'XCA.jpg'), path.join(FIXTURES, 'C.jpg'), path.join(FIXTURES, 'no_manifest.jpg'), '--json']);
    expect(verify.code).toBe(1);
    const { results, summary } = JSON.parse(verify.stdout);
    expect(summary).toMatchObject({ files: 3, trusted: 0, valid: 1, invalid: 1, noManifest: 1, failed: 0 });
    expect(results[0]).toMatchObject({ file: 'XCA.jpg', state: 'Invalid', reason: expect.stringMatching(/^assertion\.dataHash\.mismatch/) });
    expect(results[1]).toMatchObject({ file: 'C.jpg', state: 'Valid', reason: expect.stringMatching(/^signingCredential\.untrusted/) });
    expect(results[2]).toMatchObject({ file: 'no_manifest.jpg', state: 'No manifest' });
    const table = await cli(['verify', path.join(FIXTURES, 'C.jpg'), '--require-trusted']);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/C\.jpg\s+Valid\s+C2PA Signer/);
  });

  it('manages keys and signs with one (--api-key), then rotates and revokes it', async () => {
    const created = await cli(['keys', 'create', '--project', projectId, '--name', 'CI', '--scope', 'sign', '--scope', 'verify', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { key, keyId } = JSON.parse(created.stdout);
    expect(key).toMatch(/^c2m_/);

    const signed = await cli(['sign', path.join(FIXTURES, 'sample1.webp'), '--out', 'signed-key', '--api-key', key]);
    expect(signed.code, signed.stdout + signed.stderr).toBe(0);
    const list = await cli(['keys', 'list', '--project', projectId]);
    expect(list.stdout).toMatch(new RegExp(`${keyId}\\s+CI\\s+c2m_\\S+\\s+ACTIVE\\s+sign,verify`));

    const rotated = await cli(['keys', 'rotate', keyId, '--grace-hours', '1', '--json']);
    expect(rotated.code, rotated.stderr).toBe(0);
    const replacement = JSON.parse(rotated.stdout);
    expect(replacement.keyId).not.toBe(keyId);
    const revoked = await cli(['keys', 'revoke', replacement.keyId, '--reason', 'test over']);
    expect(revoked.stdout).toMatch(/revoked at .*\(test over\)/);
    const refused = await cli(['verify', 'signed-key', '--api-key', replacement.key]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/Failed\s+unauthenticated: this API key has been revoked/);
  });

  it('lists projects, certificates, the chain, the audit log and the figures; signs a hash', async () => {
    const projects = await cli(['projects', 'list']);
    expect(projects.code).toBe(0);
    expect(projects.stdout).toContain(projectId);
    const certs = await cli(['certs', 'list', '--profile', 'C2PA_SIGNING']);
    expect(certs.stdout).toMatch(/c2pa-mesh default signer\s+ACTIVE/);
    const chain = await cli(['certs', 'chain']);
    expect(chain.stdout.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);

    const hash = await cli(['sign-hash', path.join(FIXTURES, 'sample1.mp3'), '--headline', 'Council vote audio', '--author', 'Jane Smith', '--content-type', 'AUTHENTIC', '--project', projectId, '--json']);
    expect(hash.code, hash.stderr).toBe(0);
    expect(JSON.parse(hash.stdout)).toMatchObject({ contentHash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), payload: expect.objectContaining({ headline: 'Council vote audio' }) });

    const audit = await cli(['audit', '--project', projectId, '--operation', 'Sign', '--limit', '5']);
    expect(audit.stdout.split('\n')[0]).toMatch(/^TIME\s+OP\s+FORMAT\s+STATUS\s+PROJECT\s+CLIENT IP\s+SIZE\s+DURATION\s+ERROR\s+REQUEST ID$/);
    expect(audit.stdout).toMatch(/Sign\s+\S+\s+ok\s+prj_/);
    const stats = await cli(['stats', '--project', projectId]);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/^today \d+ requests, this week \d+; last 30 days: [\d.]+% succeeded/);
  });

  it('names its own flags in the mesh\'s error messages, not the fields of the request behind them', async () => {
    const noName = await cli(['certs', 'issue', '--profile', 'MESH_CLIENT', '--organization', 'Example News', '--out', path.join(scratch, 'partner')]);
    expect(noName.code).toBe(1);
    expect(noName.stderr.trim()).toBe('c2pa-mesh: invalid_argument: --common-name is required');
    const tooLong = await cli(['certs', 'issue', '--profile', 'MESH_CLIENT', '--common-name', 'partner', '--days', '100000', '--out', path.join(scratch, 'partner')]);
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toMatch(/^c2pa-mesh: invalid_argument: --days must be between 1 and \d+/);
    const noKey = await cli(['keys', 'rotate', '']);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr.trim()).toBe('c2pa-mesh: invalid_argument: <key-id> is required');
  });

  it('exits 2 on usage errors and 1 with a hint when the mesh cannot be reached', async () => {
    expect((await cli(['sign'])).code).toBe(2);
    expect((await cli(['verify', 'x', '--concurrency', '0'])).code).toBe(2);
    const closed = await freePort();
    const unreachable = await cli(['projects', 'list', '--url', `https://127.0.0.1:${closed}`]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach the mesh at https:\/\/127\.0\.0\.1:\d+.*is it running\?/);
    const noPki = await cli(['projects', 'list', '--data-dir', path.join(scratch, 'nowhere')]);
    expect(noPki.code).toBe(1);
    expect(noPki.stderr).toMatch(/cannot read the mesh CA certificate at .*nowhere\/pki\/mesh-ca\.pem/);
  });
});
