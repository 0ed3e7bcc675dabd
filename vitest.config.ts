import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The end-to-end and multi-host files take most of the run's time: each starts mesh processes
 * (and a browser, HAProxy, namespaces). Started last, one of them keeps a worker busy while the
 * other has nothing left to do, so they go first; within each group, vitest's own order (the last
 * run's durations when it has them, else the larger file first).
 */
class SlowFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const group = (file: TestSpecification) => (/^test[\\/](hosts|e2e)[\\/]/.test(path.relative(process.cwd(), file.moduleId)) ? 0 : 1);
    return sorted.map((file, order) => ({ file, order })).sort((a, b) => group(a.file) - group(b.file) || a.order - b.order).map(({ file }) => file);
  }
}

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The machines that run this have two cores: keep parallel test files at two.
    maxWorkers: 2,
    sequence: { sequencer: SlowFilesFirst },
  },
});
