import { describe, expect, it } from 'vitest';
import { InMemoryBlob, InMemoryFileReaderSync, installFileReaderSync } from './file-reader-sync.js';

const text = (buffer: ArrayBuffer) => Buffer.from(buffer).toString('latin1');

describe('FileReaderSync stand-in', () => {
  const blob = new InMemoryBlob(new Uint8Array(Buffer.from('0123456789', 'latin1')), 'image/jpeg');
  const reader = new InMemoryFileReaderSync();

  it('reads a whole blob synchronously', () => {
    expect(blob.size).toBe(10);
    expect(blob.type).toBe('image/jpeg');
    expect(text(reader.readAsArrayBuffer(blob))).toBe('0123456789');
  });

  it('slices like Blob.slice: clamped, negative from the end, nested', () => {
    expect(text(reader.readAsArrayBuffer(blob.slice(2, 5)))).toBe('234');
    expect(text(reader.readAsArrayBuffer(blob.slice(-3)))).toBe('789');
    expect(text(reader.readAsArrayBuffer(blob.slice(8, 100)))).toBe('89');
    expect(blob.slice(7, 3).size).toBe(0);
    expect(text(reader.readAsArrayBuffer(blob.slice(1, 9).slice(2, 4)))).toBe('34');
  });

  it('returns exactly the slice, never the rest of the backing buffer', () => {
    const buffer = reader.readAsArrayBuffer(blob.slice(4, 6));
    expect(buffer.byteLength).toBe(2);
  });

  it('shares the backing bytes instead of copying them for slices', () => {
    const backing = new Uint8Array(Buffer.from('abcdef', 'latin1'));
    const slice = new InMemoryBlob(backing).slice(1, 3);
    backing[1] = 'X'.charCodeAt(0);
    expect(text(reader.readAsArrayBuffer(slice))).toBe('Xc');
  });

  it('refuses a blob it did not make', () => {
    expect(() => reader.readAsArrayBuffer(new Blob(['x']))).toThrow(/InMemoryBlob/);
  });

  it('installs itself as the global FileReaderSync, once, keeping a real one', () => {
    const scope: Record<string, unknown> = {};
    installFileReaderSync(scope);
    expect(scope.FileReaderSync).toBe(InMemoryFileReaderSync);
    class Native {}
    const browser: Record<string, unknown> = { FileReaderSync: Native };
    installFileReaderSync(browser);
    expect(browser.FileReaderSync).toBe(Native);
  });
});
