import { execFileSync, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputMismatch, shellExamples, type ShellExample } from '../support/readme-examples.js';
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
};

/** What the examples call besides node and npx. */
const TOOLS = ['bash', 'curl', 'jq', 'openssl', 'base64'];

const BLOCK_TIMEOUT_MS = 240_000;

/**
 * Runs one example in its own bash with `set -euo pipefail`, as if it followed the examples
 * before it in one session: it starts from their shell variables, functions and working
 * directory (kept in `state`), and leaves its own there for the next one.
 */
function runExample(code: string, options: { cwd: string; state: string; env: NodeJS.ProcessEnv }): Promise<{ status: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  const script = `
__readme_baseline=" $(compgen -v | tr '\\n' ' ') "
__readme_save() {
  local __readme_status=$?
  {
    for __readme_name in $(compgen -v); do
      case "$__readme_name" in
        __readme_*|BASH*|FUNCNAME|PIPESTATUS|LINENO|RANDOM|SRANDOM|SECONDS|EPOCHREALTIME|EPOCHSECONDS|_|HISTCMD|OPTIND|OPTARG|OPTERR|COLUMNS|LINES|SHLVL|PWD|OLDPWD|PPID|UID|EUID|GROUPS|SHELLOPTS|DIRSTACK|IFS|PS4) continue ;;
      esac
      case "$__readme_baseline" in *" $__readme_name "*) continue ;; esac
      declare -p "$__readme_name"
    done
    for __readme_name in $(compgen -A function); do
      case "$__readme_name" in __readme_*) ;; *) declare -f "$__readme_name" ;; esac
    done
    printf 'cd %q\\n' "$PWD"
  } > "$__README_STATE.next" 2>/dev/null
  mv "$__README_STATE.next" "$__README_STATE"
  exit "$__readme_status"
}
[ -f "$__README_STATE" ] && source "$__README_STATE"
trap __readme_save EXIT
set -euo pipefail
source "$__README_EXAMPLE"
`;
  return (async () => {
    const exampleFile = `${options.state}.example.sh`;
    await writeFile(exampleFile, `${code}\n`);
    return new Promise((resolve, reject) => {
      const child = spawn('bash', ['-c', script], {
        cwd: options.cwd,
        env: { ...options.env, __README_STATE: options.state, __README_EXAMPLE: exampleFile },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      // The example's whole process group: a command it started must not outlive it.
      const timer = setTimeout(() => {
        timedOut = true;
        process.kill(-child.pid!, 'SIGKILL');
      }, BLOCK_TIMEOUT_MS);
      child.once('error', reject);
      child.once('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr, timedOut });
      });
    });
  })();
}

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

describe('the README, run as written against a freshly started mesh', () => {
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

describe('README output blocks', () => {
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
});
