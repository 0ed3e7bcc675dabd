/** Options that take their value as the next argument (`--import tsx`) as well as inline (`--import=tsx`). */
const MODULE_OPTIONS_WITH_VALUE = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader', '--conditions', '-C']);
const MODULE_FLAGS = new Set(['--enable-source-maps', '--preserve-symlinks', '--preserve-symlinks-main', '--no-warnings', '--no-deprecation']);

/**
 * The part of a process's Node options that a worker thread needs to load its code as the main
 * thread did: module hooks and preloads (`--import`, `--require`, `--loader`), resolution
 * conditions, symlink handling, source maps, warning switches.
 *
 * Everything else stays with the process. A worker refuses V8 options and per-process options
 * (`--max-semi-space-size`, `--max-old-space-size`, `--title`, `--inspect`, …) with
 * ERR_WORKER_INVALID_EXEC_ARGV, so passing `process.execArgv` on unchanged would stop the engine
 * pool from starting whenever the process was started with one; V8's heap options size the
 * process's own isolate, and each worker has its own heap anyway.
 */
export function workerModuleOptions(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    const name = arg.startsWith('--') && arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (MODULE_OPTIONS_WITH_VALUE.has(name)) {
      if (name === arg) {
        // The value is the next argument.
        if (i + 1 < execArgv.length) kept.push(arg, execArgv[++i]);
      } else {
        kept.push(arg);
      }
    } else if (MODULE_FLAGS.has(name)) {
      kept.push(arg);
    }
  }
  return kept;
}
