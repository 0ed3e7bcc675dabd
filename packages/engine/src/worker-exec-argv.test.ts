import { describe, expect, it } from 'vitest';
import { workerModuleOptions } from './worker-exec-argv.js';

describe('workerModuleOptions', () => {
  it('keeps module loaders, preloads and conditions, in both spellings', () => {
    expect(workerModuleOptions(['--import', 'tsx', '--require=./setup.cjs', '-r', './other.cjs', '--loader', 'x.mjs', '--conditions=dev', '-C', 'edge'])).toEqual([
      '--import',
      'tsx',
      '--require=./setup.cjs',
      '-r',
      './other.cjs',
      '--loader',
      'x.mjs',
      '--conditions=dev',
      '-C',
      'edge',
    ]);
  });

  it('drops V8 and per-process options, which worker threads refuse', () => {
    expect(
      workerModuleOptions(['--max-semi-space-size=8', '--import', 'tsx', '--max-old-space-size=4096', '--trace-gc', '--title=mesh', '--inspect=9229', '--enable-source-maps', '--no-warnings']),
    ).toEqual(['--import', 'tsx', '--enable-source-maps', '--no-warnings']);
  });

  it('does not take the next option as the value of a trailing one', () => {
    expect(workerModuleOptions(['--import'])).toEqual([]);
  });
});
