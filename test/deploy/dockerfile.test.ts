import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, meshStartArgs } from '../support/start-mesh.js';

/**
 * The Dockerfile read statically (no Docker engine runs where the tests run): stages, user,
 * volumes and the command, held against package.json's start script and the configuration.
 */

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions with line continuations joined and comments dropped (the Dockerfile reference's rules). */
function instructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(line)!;
      return { keyword: keyword.toUpperCase(), args };
    });
}

/** KEY=VALUE pairs of an ENV instruction. */
function envPairs(args: string): Record<string, string> {
  return Object.fromEntries([...args.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map(([, k, v]) => [k, v.replace(/^"|"$/g, '')]));
}

describe('the Dockerfile', () => {
  const all = instructions(readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8'));
  const stageStarts = all.flatMap((instruction, i) => (instruction.keyword === 'FROM' ? [i] : []));
  const runtime = all.slice(stageStarts.at(-1));
  const last = (keyword: string) => runtime.filter((i) => i.keyword === keyword).at(-1);

  it('builds in stages and copies only the built application into the last one', () => {
    expect(stageStarts.length).toBeGreaterThanOrEqual(2);
    const stageNames = stageStarts.map((i) => /\bAS\s+(\S+)/i.exec(all[i].args)?.[1]);
    expect(stageNames[0]).toBeDefined();
    expect(runtime.some((i) => i.keyword === 'COPY' && i.args.includes(`--from=${stageNames[0]}`))).toBe(true);
    // The dependencies are installed from the lock file, without dev dependencies.
    expect(all.slice(0, stageStarts.at(-1)).some((i) => i.keyword === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    // Every path the build copies from the context exists.
    for (const copy of all.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from'))) {
      const sources = copy.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1);
      for (const source of sources) expect(existsSync(path.join(REPO_ROOT, source)), source).toBe(true);
    }
  });

  it('runs as a non-root user, by number, so that Kubernetes can check runAsNonRoot', () => {
    const user = last('USER')?.args ?? '';
    const [uid] = user.split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
  });

  it('runs package.json start script, with node directly', () => {
    const cmd = JSON.parse(last('CMD')!.args) as string[];
    expect(cmd).toEqual(['node', ...meshStartArgs()]);
    expect(runtime.some((i) => i.keyword === 'ENTRYPOINT')).toBe(false);
  });

  it('writes only to its volumes: the data dir and /tmp, so that the root filesystem can be read-only', () => {
    const env = Object.assign({}, ...runtime.filter((i) => i.keyword === 'ENV').map((i) => envPairs(i.args)));
    expect(env.MESH_DATA_DIR).toBe('/data');
    expect(env.TMPDIR).toBe('/tmp');
    const volumes = JSON.parse(last('VOLUME')!.args) as string[];
    expect(volumes.sort()).toEqual(['/data', '/tmp']);
    // Listens beyond the container's loopback, on the ports the contract names.
    expect(env.MESH_HOST).toBe('0.0.0.0');
    const exposed = runtime.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map(Number);
    expect(exposed.sort()).toEqual([Number(env.PKI_HTTP_PORT), Number(env.MESH_PORT), Number(env.MESH_METRICS_PORT)].sort());
  });

  it('keeps dependencies, data and secrets of the build machine out of the context', () => {
    const ignored = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['**/node_modules', '.data', '.git']) expect(ignored).toContain(entry);
  });
});
