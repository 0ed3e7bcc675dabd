import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface OpensslResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together: openssl prints its verdicts on either. */
  output: string;
}

/** A scratch directory for the files openssl reads and writes; `dispose()` removes it. */
export async function createScratch(prefix = 'c2pa-mesh-ca-e2e-') {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const file = (name: string) => path.join(dir, name);
  return {
    dir,
    file,
    async write(name: string, data: Uint8Array | string): Promise<string> {
      await writeFile(file(name), data);
      return file(name);
    },
    read: async (name: string) => new Uint8Array(await readFile(file(name))),
    /** Runs openssl in the scratch directory; never rejects: the exit code tells. */
    openssl(args: string[]): Promise<OpensslResult> {
      return new Promise((resolve) => {
        execFile('openssl', args, { cwd: dir, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr), output: `${stdout}\n${stderr}` });
        });
      });
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

export type Scratch = Awaited<ReturnType<typeof createScratch>>;
