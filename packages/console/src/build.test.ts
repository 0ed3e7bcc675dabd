import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir } from '../../../test/support/cleanup.js';
import { ensureConsoleBuilt } from './build.js';

/** The Vite build the mesh runs on start: what it emits must live under the Content-Security-Policy. */
describe('the console build', () => {
  let dir: string | undefined;
  afterAll(() => removeDir(dir));

  it('builds once into hashed files with no inline script or style, then finds its build current', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-console-build-'));
    const dist = path.join(dir, 'dist');
    const logger = pino({ level: 'silent' });
    expect((await ensureConsoleBuilt(logger, dist)).outcome).toBe('built');
    const html = await readFile(path.join(dist, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [tag, body] of scripts) {
      expect(tag).toMatch(/src="\/console\/assets\/[\w-]+\.js"/);
      expect(body.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
    const assets = await readdir(path.join(dist, 'assets'));
    expect(assets.some((f) => /^index-[\w-]+\.js$/.test(f))).toBe(true);
    expect(assets.some((f) => /^index-[\w-]+\.css$/.test(f))).toBe(true);
    expect((await ensureConsoleBuilt(logger, dist)).outcome).toBe('fresh');
  }, 120_000);
});
