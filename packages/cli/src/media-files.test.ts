import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError, formatTable } from './io.js';
import { collectMediaFiles, formatOf } from './media-files.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-cli-files-'));
  await mkdir(path.join(dir, 'shoot/day2'), { recursive: true });
  await mkdir(path.join(dir, 'shoot/.cache'));
  await writeFile(path.join(dir, 'shoot/b.JPG'), 'x');
  await writeFile(path.join(dir, 'shoot/a.png'), 'x');
  await writeFile(path.join(dir, 'shoot/notes.txt'), 'x');
  await writeFile(path.join(dir, 'shoot/.hidden.jpg'), 'x');
  await writeFile(path.join(dir, 'shoot/.cache/c.jpg'), 'x');
  await writeFile(path.join(dir, 'shoot/day2/clip.mp4'), 'x');
  await writeFile(path.join(dir, 'no-extension'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('collectMediaFiles', () => {
  it('walks directories in name order, media by extension only, hidden entries skipped', async () => {
    const files = await collectMediaFiles(['shoot'], dir);
    expect(files.map((f) => f.displayPath)).toEqual(['shoot/a.png', 'shoot/b.JPG', 'shoot/day2/clip.mp4']);
  });

  it('takes a file named explicitly whatever its name, once', async () => {
    const files = await collectMediaFiles(['shoot/notes.txt', 'shoot', 'shoot/a.png'], dir);
    expect(files.map((f) => f.displayPath)).toEqual(['notes.txt', 'shoot/a.png', 'shoot/b.JPG', 'shoot/day2/clip.mp4']);
  });

  it('says which argument does not exist', async () => {
    await expect(collectMediaFiles(['nope'], dir)).rejects.toThrow(new CliError('no such file or directory: nope'));
  });
});

describe('formatOf', () => {
  it('takes the declared format, else the extension, else the magic bytes', async () => {
    expect(await formatOf(path.join(dir, 'shoot/b.JPG'), undefined)).toBe('image/jpeg');
    expect(await formatOf(path.join(dir, 'shoot/b.JPG'), 'png')).toBe('image/png');
    expect(await formatOf(path.join(dir, 'no-extension'), undefined)).toBe('image/png');
    await expect(formatOf(path.join(dir, 'shoot/notes.txt'), undefined)).rejects.toThrow(/cannot tell the format of notes\.txt; pass --format/);
  });
});

describe('formatTable', () => {
  it('pads every column but the last to its widest cell', () => {
    expect(formatTable(['FILE', 'STATE'], [['a.jpg', 'Trusted'], ['long-name.png', 'Invalid']])).toBe(
      ['FILE           STATE', '-------------  -------', 'a.jpg          Trusted', 'long-name.png  Invalid'].join('\n'),
    );
  });
});
