import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';

/**
 * The shell examples of a Markdown file, as the README test runs them.
 *
 * - A fence whose language is `sh`, `bash` or `shell` is an example; it runs unless its info string
 *   also says `no-run` (```sh no-run), which is how the README names the examples a test cannot
 *   run (starting the mesh, running the suite).
 * - A ```text output fence right after an example (only blank lines between) is the output the
 *   example prints on stdout; see `outputMismatch` for how it is compared.
 */
export interface ShellExample {
  /** 1-based line of the opening fence in the file. */
  line: number;
  /** The nearest heading above it, to name it in messages. */
  heading: string;
  code: string;
  run: boolean;
  /** The lines of the ```text output block that follows, if any. */
  expectedOutput?: string[];
}

const FENCE = /^```(\S*)(.*)$/;
const SHELLS = new Set(['sh', 'bash', 'shell']);

export function shellExamples(markdown: string): ShellExample[] {
  const lines = markdown.split('\n');
  const examples: ShellExample[] = [];
  let heading = '';
  // The example an output block may still follow: reset by anything but blank lines.
  let last: ShellExample | undefined;
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) {
      if (lines[i].startsWith('#')) heading = lines[i].replace(/^#+\s*/, '');
      if (lines[i].trim() !== '') last = undefined;
      continue;
    }
    const language = open[1];
    const flags = open[2].trim().split(/\s+/).filter(Boolean);
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    if (i >= lines.length) throw new Error(`the fence opened on line ${start + 1} is never closed`);
    if (SHELLS.has(language)) {
      last = { line: start + 1, heading, code: body.join('\n'), run: !flags.includes('no-run') };
      examples.push(last);
    } else if (language === 'text' && flags.includes('output')) {
      if (!last) throw new Error(`the output block on line ${start + 1} follows no shell example`);
      if (!last.run) throw new Error(`the output block on line ${start + 1} follows an example marked no-run`);
      last.expectedOutput = body;
      last = undefined;
    } else {
      last = undefined;
    }
  }
  return examples;
}

const normalize = (line: string) => line.trim().replace(/\s+/g, ' ');

function linePattern(expected: string): RegExp {
  const parts = normalize(expected).split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`);
}

/**
 * Why `actual` (an example's stdout) is not the output the README shows, or undefined when it is.
 * Lines are compared with runs of white space made one space (tables keep their columns whatever
 * the width of a value) and blank lines left out; `…` in a line stands for any text (ids, times,
 * hashes), and a line that is only `…` for any number of lines.
 */
export function outputMismatch(expected: readonly string[], actual: string): string | undefined {
  const want = expected.map(normalize).filter((line) => line !== '');
  const got = actual.split('\n').map(normalize).filter((line) => line !== '');
  const matches = (w: number, g: number): boolean => {
    if (w === want.length) return g === got.length;
    if (want[w] === '…') {
      for (let skip = g; skip <= got.length; skip++) if (matches(w + 1, skip)) return true;
      return false;
    }
    return g < got.length && linePattern(want[w]).test(got[g]) && matches(w + 1, g + 1);
  };
  if (matches(0, 0)) return undefined;
  // The first line that does not match, for the message (wildcard lines aside).
  let g = 0;
  for (const line of want) {
    if (line === '…') return `expected:\n${want.join('\n')}\n\ngot:\n${got.join('\n')}`;
    if (g >= got.length) return `the output ends where the README shows "${line}"\n\ngot:\n${got.join('\n')}`;
    if (!linePattern(line).test(got[g])) return `the README shows "${line}", the example printed "${got[g]}"\n\ngot:\n${got.join('\n')}`;
    g++;
  }
  return `the example printed more than the README shows:\n${got.slice(g).join('\n')}`;
}

export const BLOCK_TIMEOUT_MS = 240_000;

/**
 * Runs one example in its own bash with `set -euo pipefail`, as if it followed the examples
 * before it in one session: it starts from their shell variables, functions and working
 * directory (kept in `state`), and leaves its own there for the next one.
 */
export function runExample(code: string, options: { cwd: string; state: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<{ status: number | null; stdout: string; stderr: string; timedOut: boolean }> {
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
      }, options.timeoutMs ?? BLOCK_TIMEOUT_MS);
      child.once('error', reject);
      child.once('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr, timedOut });
      });
    });
  })();
}
