/**
 * `npm run bench`: every benchmark module in bench/ (each `bench/<name>.ts` but this one and the
 * shared helpers in support.ts), in
 * turn, each in its own process so that one's warm-up, memory and worker threads do not colour the
 * next. `--only <name>[,<name>]` picks modules; every other argument goes to each module.
 *
 *   npm run bench
 *   npm run bench -- --only ca,pki --seconds 3
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? new Set(args[onlyAt + 1]?.split(',')) : undefined;
const passed = args.filter((arg, i) => arg !== '--' && i !== onlyAt && i !== onlyAt + 1);

/** Files here that are not benchmarks. */
const NOT_BENCHMARKS = new Set(['run', 'support']);
const available = readdirSync(here)
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
  .map((file) => file.slice(0, -'.ts'.length))
  .filter((name) => !NOT_BENCHMARKS.has(name))
  .sort();
const modules = available.filter((name) => only === undefined || only.has(name));
if (modules.length === 0) {
  process.stderr.write(`no benchmark matches ${[...(only ?? [])].join(', ')}; available: ${available.map((name) => `${name}.ts`).join(', ')}\n`);
  process.exit(2);
}

const failed: string[] = [];
for (const name of modules) {
  process.stderr.write(`\n== bench/${name}.ts ==\n`);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, `${name}.ts`), ...passed], { stdio: 'inherit' });
    child.on('exit', (exitCode) => resolve(exitCode));
  });
  if (code !== 0) failed.push(`${name} (exit ${code})`);
}
if (failed.length > 0) {
  process.stderr.write(`\nbenchmarks that failed: ${failed.join(', ')}\n`);
  process.exit(1);
}
