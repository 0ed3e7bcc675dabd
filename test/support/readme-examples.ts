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
