import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError, formatTable } from './io.js';
import { readMedia } from '@c2pa-mesh/engine/test-support';
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
  await mkdir(path.join(dir, 'formats'));
  for (const name of [...FURTHER_FORMATS.map(([file]) => file as string), 'report.docx', 'book.epub', 'take.aiff', 'store.c2pa']) {
    await writeFile(path.join(dir, 'formats', name), 'x');
  }
  await mkdir(path.join(dir, 'unnamed'));
  for (const file of ['sample1.heic', 'video1.mov', 'video1.m4v', 'sample1.dng', 'sample1.gif', 'sample1.svg', 'video1.avi', 'sample1.jxl', 'sample1.pdf']) {
    await writeFile(path.join(dir, 'unnamed', file.replace('.', '-')), readMedia(file));
  }
});

/** File names of the further formats the mesh signs, and the MIME type the CLI sends for each. */
const FURTHER_FORMATS = [
  ['a.heic', 'image/heic'],
  ['b.HEIF', 'image/heif'],
  ['c.mov', 'video/quicktime'],
  ['d.qt', 'video/quicktime'],
  ['e.m4v', 'video/x-m4v'],
  ['f.dng', 'image/x-adobe-dng'],
  ['g.gif', 'image/gif'],
  ['h.svg', 'image/svg+xml'],
  ['i.avi', 'video/avi'],
  ['j.jxl', 'image/jxl'],
  ['k.pdf', 'application/pdf'],
] as const;
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

  it('takes every further format the mesh signs by its extension, and no format it does not know', async () => {
    const names = FURTHER_FORMATS.map(([file]) => `formats/${file}`);
    expect((await collectMediaFiles(['formats'], dir, 'signable')).map((f) => f.displayPath)).toEqual(names);
    // Verifying also takes a bare manifest store, which the mesh reads but does not sign.
    expect((await collectMediaFiles(['formats'], dir)).map((f) => f.displayPath)).toEqual([...names, 'formats/store.c2pa']);
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
    await expect(formatOf(path.join(dir, 'shoot/notes.txt'), undefined)).rejects.toThrow(/^cannot tell the format of notes\.txt: \.txt is none of the formats the mesh supports \(image\/jpeg, .*\); pass --format if the file is one of them$/);
    await writeFile(path.join(dir, 'unnamed/blob'), 'no magic bytes here');
    await expect(formatOf(path.join(dir, 'unnamed/blob'), undefined)).rejects.toThrow(/^cannot tell the format of blob; pass --format \(e\.g\. image\/jpeg\)$/);
  });

  it('names the supported formats for a document this engine build does not sign', async () => {
    await expect(formatOf(path.join(dir, 'formats/report.docx'), undefined)).rejects.toThrow(/^cannot tell the format of report\.docx: \.docx is none of the formats the mesh supports \(.*image\/heic.*application\/pdf.*\)/);
  });

  it.each(FURTHER_FORMATS)('maps %s to %s', async (file, format) => {
    expect(await formatOf(path.join(dir, 'formats', file), undefined)).toBe(format);
  });

  it('sniffs the further formats from the first bytes of files without an extension', async () => {
    const files = ['sample1.heic', 'video1.mov', 'video1.m4v', 'sample1.dng', 'sample1.gif', 'sample1.svg', 'video1.avi', 'sample1.jxl', 'sample1.pdf'];
    const sniffed = await Promise.all(files.map(async (file) => [file, await formatOf(path.join(dir, 'unnamed', file.replace('.', '-')), undefined)]));
    expect(Object.fromEntries(sniffed)).toEqual({
      'sample1.heic': 'image/heic',
      'video1.mov': 'video/quicktime',
      'video1.m4v': 'video/x-m4v',
      'sample1.dng': 'image/x-adobe-dng',
      'sample1.gif': 'image/gif',
      'sample1.svg': 'image/svg+xml',
      'video1.avi': 'video/avi',
      'sample1.jxl': 'image/jxl',
      'sample1.pdf': 'application/pdf',
    });
  });
});

describe('formatTable', () => {
  it('pads every column but the last to its widest cell', () => {
    expect(formatTable(['FILE', 'STATE'], [['a.jpg', 'Trusted'], ['long-name.png', 'Invalid']])).toBe(
      ['FILE           STATE', '-------------  -------', 'a.jpg          Trusted', 'long-name.png  Invalid'].join('\n'),
    );
  });
});
