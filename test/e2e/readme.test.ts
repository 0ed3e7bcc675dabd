import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_TIMEOUT_MS, outputMismatch, runExample, shellExamples, type ShellExample } from '../support/readme-examples.js';
import { FIXTURES, REPO_ROOT, startMeshProcess, type MeshProcess } from '../support/start-mesh.js';

/**
 * The files the README's examples name, as a user would have them at the repository root, made
 * from the media fixtures. An example naming a file not listed here fails with "No such file".
 */
const README_FILES: Record<string, string> = {
  'photo.jpg': 'no_manifest.jpg',
  'photos/harbour.jpg': 'no_manifest.jpg',
  'photos/chart.png': 'sample1.png',
  'clip.mp4': 'video1_no_manifest.mp4',
  'test/fixtures/media/C.jpg': 'C.jpg',
};

/** What the examples call besides node and npx. */
const TOOLS = ['bash', 'curl', 'jq', 'openssl', 'base64'];

function missingTools(): string[] {
  return TOOLS.filter((tool) => {
    try {
      execFileSync('bash', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
}

// CI's time budget: this file drives a client surface (the README) end to end, and the mesh behind it
// stores nothing here that other files do not test on both databases. CI runs it in its embedded
// database pass (the README's own default) and not again in the PostgreSQL pass.
const postgresPassInCi = Boolean(process.env.CI) && Boolean(process.env.DATABASE_URL);
if (postgresPassInCi) console.warn('readme.test.ts: run in the embedded-database pass only');

describe.skipIf(postgresPassInCi)('the README, run as written against a freshly started mesh', () => {
  let examples: ShellExample[];
  let mesh: MeshProcess | undefined;
  let root: string | undefined;

  beforeAll(async () => {
    examples = shellExamples(await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8'));
    const missing = missingTools();
    if (missing.length > 0) throw new Error(`the README's examples need ${missing.join(', ')}: install them (e.g. apt-get install -y ${missing.join(' ')})`);
    // A working directory that looks like the repository root to the examples: the mesh's data
    // dir as ./.data, the workspace's node_modules (so npx finds c2pa-mesh and buf here and never
    // asks the registry), a package.json and the files the examples name.
    root = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-readme-'));
    await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
    await writeFile(path.join(root, 'package.json'), `${JSON.stringify({ name: 'c2pa-mesh-readme', private: true, type: 'module' }, null, 2)}\n`);
    for (const [name, fixture] of Object.entries(README_FILES)) {
      await mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await copyFile(path.join(FIXTURES, fixture), path.join(root, name));
    }
    mesh = await startMeshProcess({ dataDir: path.join(root, '.data'), timeoutMs: 240_000 });
  }, 300_000);

  afterAll(async () => {
    await mesh?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('names the examples it does not run (```sh no-run): starting the mesh and running the suite', () => {
    const skipped = examples.filter((e) => !e.run);
    expect(skipped.length).toBeGreaterThan(0);
    for (const example of skipped) expect(example.code, `line ${example.line}`).toMatch(/\bnpm (start|test)\b/);
    expect(examples.filter((e) => e.run).length).toBeGreaterThan(0);
  });

  it('calls curl with --fail-with-body (or --fail) in every example it runs, so that an HTTP error fails the example', () => {
    const silent: string[] = [];
    for (const example of examples.filter((e) => e.run)) {
      // One logical line per command line (continuations joined), then each curl up to the end of its pipeline stage.
      for (const line of example.code.replace(/\\\n/g, ' ').split('\n')) {
        for (const match of line.matchAll(/(?:^|[|;&(`"'=]\s*)curl\s([^|;&)`]*)/g)) {
          if (!/(?:^|\s)(?:--fail(?:-with-body)?|-[a-zA-Z]*f[a-zA-Z]*)(?=\s|$)/.test(match[1])) silent.push(`README.md line ${example.line}: ${line.trim()}`);
        }
      }
    }
    expect(silent).toEqual([]);
  });

  it('runs every other ```sh example in order: each exits 0 and prints what the README shows', async () => {
    const state = path.join(root!, '.readme-shell-state');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // Where the README says 127.0.0.1:8443 the CLI goes by default; this mesh listens elsewhere.
      C2PA_MESH_URL: mesh!.url,
      // npx runs the workspace's own binaries, never a download.
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
      NO_COLOR: '1',
    };
    for (const name of ['MESH_DATA_DIR', 'C2PA_MESH_API_KEY', 'DATABASE_URL', 'CURL_CA_BUNDLE']) delete env[name];
    const failures: string[] = [];
    for (const example of examples.filter((e) => e.run)) {
      const code = example.code.replaceAll('127.0.0.1:8443', `127.0.0.1:${mesh!.port}`).replaceAll('127.0.0.1:8080', `127.0.0.1:${mesh!.pkiPort}`);
      const result = await runExample(code, { cwd: root!, state, env });
      const where = `README.md line ${example.line} (${example.heading})`;
      if (result.timedOut) failures.push(`${where}: did not finish within ${BLOCK_TIMEOUT_MS} ms\n${result.stderr}`);
      else if (result.status !== 0) failures.push(`${where}: exited ${result.status}\n--- stderr\n${result.stderr}--- stdout\n${result.stdout}`);
      else if (example.expectedOutput) {
        const mismatch = outputMismatch(example.expectedOutput, result.stdout);
        if (mismatch) failures.push(`${where}: output is not what the README shows: ${mismatch}`);
      }
    }
    expect(failures.join('\n\n')).toBe('');
  }, 1_200_000);
});

describe('README examples: parsing, output and the shell session', () => {
  it('match line by line, white space collapsed, with … for any text and a lone … for any lines', () => {
    const out = '{\n  "status":   "SERVING",\n  "id": "prj_abc"\n}\n';
    expect(outputMismatch(['{', '"status": "SERVING",', '"id": "prj_…"', '}'], out)).toBeUndefined();
    expect(outputMismatch(['{', '…', '}'], out)).toBeUndefined();
    expect(outputMismatch(['…'], out)).toBeUndefined();
    expect(outputMismatch(['{', '"status": "NOT_SERVING",', '…'], out)).toMatch(/the README shows "\"status\": \"NOT_SERVING\",", the example printed "\"status\": \"SERVING\","/);
    expect(outputMismatch(['{', '"status": "SERVING",'], out)).toMatch(/printed more than the README shows/);
    expect(outputMismatch(['{', '…', '"missing": 1', '}'], out)).toBeDefined();
    expect(outputMismatch(['Verification: OK'], '')).toMatch(/ends where the README shows/);
  });

  it('belong to the shell example right before them; no-run examples are marked, not guessed', () => {
    const markdown = ['# A', '```sh no-run', 'npm start', '```', '## B', '```sh', 'echo hi', '```', '', '```text output', 'hi', '```', '```text', 'not output', '```', '```sh', 'true', '```', 'prose', '```text output', 'x', '```'].join('\n');
    expect(() => shellExamples(markdown)).toThrow(/line 20 follows no shell example/);
    const examples = shellExamples(markdown.split('\n').slice(0, 18).join('\n'));
    expect(examples.map(({ line, heading, run, expectedOutput }) => ({ line, heading, run, expectedOutput }))).toEqual([
      { line: 2, heading: 'A', run: false, expectedOutput: undefined },
      { line: 6, heading: 'B', run: true, expectedOutput: ['hi'] },
      { line: 16, heading: 'B', run: true, expectedOutput: undefined },
    ]);
  });

  it('run as one bash session: variables, functions, exports and the directory carry over; set -euo pipefail holds', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-readme-shell-'));
    try {
      const session = { cwd, state: path.join(cwd, '.state'), env: { PATH: process.env.PATH } };
      const first = await runExample(`X='a b'\nARR=(1 2)\nf() { echo "f:$1"; }\nmkdir -p sub && cd sub\nexport Y=exported`, session);
      expect(first).toMatchObject({ status: 0, timedOut: false });
      const second = await runExample('echo "$X|${ARR[1]}|$(f z)|$(basename "$PWD")|$(printenv Y)"', session);
      expect(second).toMatchObject({ status: 0, stdout: 'a b|2|f:z|sub|exported\n' });
      for (const failing of ['false | true\necho no', 'echo "$NOT_SET_ANYWHERE"', 'false\necho no', 'exit 3']) {
        const result = await runExample(failing, session);
        expect(result.status, failing).not.toBe(0);
        expect(result.stdout, failing).toBe('');
      }
      // A failed example does not undo what the session had.
      expect((await runExample('echo "$X"', session)).stdout).toBe('a b\n');
      const slow = await runExample('sleep 30', { ...session, timeoutMs: 300 });
      expect(slow.timedOut).toBe(true);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
