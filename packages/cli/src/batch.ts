import { SingleBar } from 'cli-progress';
import { write, type CliIo } from './io.js';

/** Progress of a batch: a bar with rate and ETA on a terminal, one line per file otherwise. */
export interface BatchProgress {
  start(total: number): void;
  /** One file done; `line` is what the non-terminal fallback prints for it. */
  done(file: string, line: string): void;
  stop(): void;
}

export function createBatchProgress(io: CliIo, options: { label: string; quiet: boolean; lineStream: 'stdout' | 'stderr' }): BatchProgress {
  if (io.stderr.isTTY && !options.quiet) {
    const bar = new SingleBar({
      stream: io.stderr,
      format: `${options.label} {bar} {percentage}% | {value}/{total} files | {rate} files/s | ETA {eta_formatted} | {file}`,
      barCompleteChar: '█',
      barIncompleteChar: '░',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 20,
      fps: 10,
    });
    let started = 0;
    return {
      start(total) {
        started = performance.now();
        bar.start(total, 0, { file: '', rate: '0.0' });
      },
      done(file) {
        const seconds = (performance.now() - started) / 1000;
        const value = bar.getProgress() * bar.getTotal() + 1;
        bar.increment(1, { file, rate: seconds > 0 ? (value / seconds).toFixed(1) : '0.0' });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let total = 0;
  let count = 0;
  const stream = options.lineStream === 'stdout' ? io.stdout : io.stderr;
  return {
    start(n) {
      total = n;
    },
    done(_file, line) {
      count++;
      if (!options.quiet) write(stream, `[${String(count).padStart(String(total).length)}/${total}] ${line}`);
    },
    stop() {},
  };
}
