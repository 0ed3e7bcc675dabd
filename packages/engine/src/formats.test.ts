import { describe, expect, it } from 'vitest';
import { MeshError } from '@c2pa-mesh/errors';
import { checkDeclaredFormat, checkSignableForm, formatExtension, normalizeFormat, READABLE_FORMATS, SIGNABLE_FORMATS, sniffFormat } from './formats.js';
import { readMedia, UNSIGNED_SAMPLES } from './test-support/media-fixtures.js';

const bytes = (...parts: Array<string | number[]>) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)));

/** An ISO BMFF file start: an ftyp box with the given major and compatible brands. */
const ftyp = (major: string, ...compatible: string[]) => {
  const size = 16 + 4 * compatible.length;
  return bytes([0, 0, 0, size], 'ftyp', major, [0, 0, 0, 0], compatible.join(''), [0, 0, 0, 8], 'free');
};

function caught(f: () => unknown): MeshError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(MeshError);
    return error as MeshError;
  }
  throw new Error('expected an error');
}

describe('normalizeFormat', () => {
  it.each([
    ['jpg', 'image/jpeg'],
    ['.JPEG', 'image/jpeg'],
    ['image/jpg', 'image/jpeg'],
    [' Image/JPEG ', 'image/jpeg'],
    ['image/jpeg; q=0.9', 'image/jpeg'],
    ['audio/x-wav', 'audio/wav'],
    ['audio/wave', 'audio/wav'],
    ['mp3', 'audio/mpeg'],
    ['audio/mp3', 'audio/mpeg'],
    ['m4a', 'audio/mp4'],
    ['tif', 'image/tiff'],
    ['flac', 'audio/flac'],
    ['mov', 'video/quicktime'],
    ['application/mp4', 'video/mp4'],
    ['svg', 'image/svg+xml'],
    ['pdf', 'application/pdf'],
    ['heic', 'image/heic'],
    ['HEIF', 'image/heif'],
    ['m4v', 'video/x-m4v'],
    ['qt', 'video/quicktime'],
    ['dng', 'image/x-adobe-dng'],
    ['image/dng', 'image/x-adobe-dng'],
    ['gif', 'image/gif'],
    ['avi', 'video/avi'],
    ['video/x-msvideo', 'video/avi'],
    ['jxl', 'image/jxl'],
  ])('%s → %s', (given, canonical) => {
    expect(normalizeFormat(given)).toBe(canonical);
  });

  it('rejects an unknown format naming the supported ones', () => {
    const error = caught(() => normalizeFormat('image/bmp'));
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toContain('"image/bmp" is not supported');
    expect(error.message).toContain('image/jpeg');
    expect(error.message).toContain('audio/flac');
    expect(caught(() => normalizeFormat('')).message).toContain('empty format');
  });

  it('lists at least the ten formats users sign, all readable', () => {
    for (const { format } of UNSIGNED_SAMPLES) expect(SIGNABLE_FORMATS).toContain(format);
    for (const format of SIGNABLE_FORMATS) expect(READABLE_FORMATS).toContain(format);
    expect(SIGNABLE_FORMATS).toContain('application/pdf');
    expect(SIGNABLE_FORMATS).not.toContain('application/c2pa');
    expect(READABLE_FORMATS).toContain('application/c2pa');
  });

  it.each(['docx', 'epub', 'odt', 'audio/aiff', 'audio/ogg', 'image/bmp', 'video/mpeg', 'arw', 'nef'])(
    'does not know %s, which this c2pa-rs build does not sign',
    (format) => {
      expect(caught(() => normalizeFormat(format)).code).toBe('invalid_argument');
    },
  );
});

describe('sniffFormat', () => {
  it.each(UNSIGNED_SAMPLES.map((s) => [s.file, s.format]))('recognises %s as %s', (file, format) => {
    expect(sniffFormat(readMedia(file))).toBe(format);
  });

  it.each([
    ['sample1.heic', 'image/heic'],
    ['video1.mov', 'video/quicktime'],
    ['video1.m4v', 'video/x-m4v'],
    ['sample1.dng', 'image/x-adobe-dng'],
    ['sample1.gif', 'image/gif'],
    ['sample1.svg', 'image/svg+xml'],
    ['video1.avi', 'video/avi'],
    ['sample1.jxl', 'image/jxl'],
    ['sample1.pdf', 'application/pdf'],
  ])('recognises %s as %s, from its first 4 KiB too', (file, format) => {
    expect(sniffFormat(readMedia(file))).toBe(format);
    expect(sniffFormat(readMedia(file).subarray(0, 4096))).toBe(format);
  });

  it('tells DNG from TIFF by DNGVersion in the first IFD, in either byte order', () => {
    // One IFD entry: tag, type BYTE (1), count 4, the version inline.
    const bigEndianDng = bytes('MM', [0, 42], [0, 0, 0, 8], [0, 1], [0xc6, 0x12, 0, 1, 0, 0, 0, 4, 1, 4, 0, 0], [0, 0, 0, 0]);
    expect(sniffFormat(bigEndianDng)).toBe('image/x-adobe-dng');
    const bigEndianTiff = bytes('MM', [0, 42], [0, 0, 0, 8], [0, 1], [0x01, 0x00, 0, 3, 0, 0, 0, 1, 0, 16, 0, 0], [0, 0, 0, 0]);
    expect(sniffFormat(bigEndianTiff)).toBe('image/tiff');
    // The first IFD beyond the bytes sniffed, or an entry count running past them: plain TIFF.
    expect(sniffFormat(bytes('II', [42, 0], [0, 0x10, 0, 0]))).toBe('image/tiff');
    expect(sniffFormat(bytes('II', [42, 0], [8, 0, 0, 0], [200, 0]))).toBe('image/tiff');
    expect(sniffFormat(readMedia('test.tiff'))).toBe('image/tiff');
  });

  it('recognises the signed JPEG fixtures', () => {
    expect(sniffFormat(readMedia('C.jpg'))).toBe('image/jpeg');
  });

  it.each([
    ['GIF89a', bytes('GIF89a', [1, 0, 1, 0]), 'image/gif'],
    ['PDF', bytes('%PDF-1.7\n'), 'application/pdf'],
    ['SVG with BOM, declaration and comment', new Uint8Array(Buffer.from('\uFEFF<?xml version="1.0"?>\n<!-- drawn by hand -->\n<svg xmlns="http://www.w3.org/2000/svg"/>', 'utf8')), 'image/svg+xml'],
    ['big-endian TIFF', bytes('MM', [0, 42, 0, 0, 0, 8]), 'image/tiff'],
    ['AVIF by major brand', ftyp('avif', 'mif1', 'miaf'), 'image/avif'],
    ['AVIF by compatible brand', ftyp('mif1', 'avif', 'miaf'), 'image/avif'],
    ['HEIC', ftyp('heic', 'mif1', 'heic'), 'image/heic'],
    ['generic HEIF', ftyp('mif1', 'mif1'), 'image/heif'],
    ['M4A', ftyp('M4A ', 'M4A ', 'mp42', 'isom'), 'audio/mp4'],
    ['QuickTime', ftyp('qt  ', 'qt  '), 'video/quicktime'],
    ['MP4', ftyp('isom', 'isom', 'iso2', 'mp41'), 'video/mp4'],
    ['WAV', bytes('RIFF', [0, 0, 0, 0], 'WAVE'), 'audio/wav'],
    ['WebP', bytes('RIFF', [0, 0, 0, 0], 'WEBP'), 'image/webp'],
    ['AVI', bytes('RIFF', [0, 0, 0, 0], 'AVI '), 'video/avi'],
    ['FLAC behind an ID3 tag', bytes('ID3', [4, 0, 0, 0, 0, 0, 2], [0, 0], 'fLaC'), 'audio/flac'],
    ['MP3 frame without ID3', bytes([0xff, 0xfb, 0x90, 0x64]), 'audio/mpeg'],
    ['JPEG XL container', bytes([0, 0, 0, 0x0c], 'JXL ', [0x0d, 0x0a, 0x87, 0x0a]), 'image/jxl'],
  ])('recognises %s', (_name, header, format) => {
    expect(sniffFormat(header)).toBe(format);
  });

  it.each([
    ['empty', bytes()],
    ['text', bytes('hello world')],
    ['unknown RIFF form', bytes('RIFF', [0, 0, 0, 0], 'CDDA')],
    ['ADTS AAC (not MP3)', bytes([0xff, 0xf1, 0x50, 0x80])],
    ['HTML', bytes('<html><body><svg></svg></body></html>')],
  ])('finds nothing in %s', (_name, data) => {
    expect(sniffFormat(data)).toBeUndefined();
  });
});

describe('checkDeclaredFormat', () => {
  const jpeg = readMedia('no_manifest.jpg');

  it('returns the canonical type when the bytes agree', () => {
    expect(checkDeclaredFormat('jpg', jpeg)).toBe('image/jpeg');
  });

  it('names both formats on a mismatch', () => {
    const error = caught(() => checkDeclaredFormat('image/png', jpeg));
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toBe('declared image/png but the bytes are a JPEG');
    expect(error.details).toMatchObject({ declared: 'image/png', detected: 'image/jpeg' });
    expect(caught(() => checkDeclaredFormat('audio/wav', readMedia('sample1.mp3'))).message).toBe(
      'declared audio/wav but the bytes are an MP3',
    );
  });

  it('accepts another member of the same container family', () => {
    expect(checkDeclaredFormat('audio/mp4', readMedia('video1_no_manifest.mp4'))).toBe('audio/mp4');
    expect(checkDeclaredFormat('image/x-adobe-dng', readMedia('test.tiff'))).toBe('image/x-adobe-dng');
    expect(checkDeclaredFormat('image/tiff', readMedia('sample1.dng'))).toBe('image/tiff');
    expect(checkDeclaredFormat('video/mp4', readMedia('video1.mov'))).toBe('video/mp4');
    expect(checkDeclaredFormat('image/heif', readMedia('sample1.heic'))).toBe('image/heif');
    expect(caught(() => checkDeclaredFormat('image/gif', readMedia('sample1.svg'))).message).toBe('declared image/gif but the bytes are an SVG');
    expect(caught(() => checkDeclaredFormat('video/avi', readMedia('sample1.webp'))).message).toBe('declared video/avi but the bytes are a WebP');
    expect(caught(() => checkDeclaredFormat('image/heic', readMedia('sample1.pdf'))).message).toBe('declared image/heic but the bytes are a PDF');
    expect(() => checkDeclaredFormat('image/webp', readMedia('sample1.wav'))).toThrow('the bytes are a WAV');
  });

  it('rejects bytes that are no known format, and empty assets', () => {
    expect(caught(() => checkDeclaredFormat('image/jpeg', bytes('not an image'))).message).toContain('not a JPEG file');
    expect(caught(() => checkDeclaredFormat('image/jpeg', bytes())).message).toContain('empty');
  });

  it('rejects an unknown declared format before looking at the bytes', () => {
    expect(caught(() => checkDeclaredFormat('text/plain', jpeg)).code).toBe('invalid_argument');
  });
});

describe('checkSignableForm', () => {
  it('refuses a bare JPEG XL codestream, accepts the container', () => {
    const error = caught(() => checkSignableForm('image/jxl', bytes([0xff, 0x0a, 0xfa, 0x1f])));
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toContain('send the image in the JPEG XL container');
    expect(() => checkSignableForm('image/jxl', readMedia('sample1.jxl'))).not.toThrow();
    expect(() => checkSignableForm('image/png', readMedia('sample1.png'))).not.toThrow();
  });
});

describe('formatExtension', () => {
  it.each([
    ['image/jpeg', 'jpg'],
    ['image/svg+xml', 'svg'],
    ['video/quicktime', 'mov'],
    ['image/x-adobe-dng', 'dng'],
    ['video/x-m4v', 'm4v'],
    ['application/pdf', 'pdf'],
    ['video/avi', 'avi'],
  ])('%s → .%s', (format, extension) => {
    expect(formatExtension(format)).toBe(extension);
  });

  it('knows none for an unknown format', () => {
    expect(formatExtension('text/plain')).toBeUndefined();
  });
});
