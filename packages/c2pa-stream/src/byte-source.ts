import { open, type FileHandle } from 'node:fs/promises';
import { invalidArgument } from '@c2pa-mesh/errors';

/** Random access to an asset too large to hold: a spooled upload, read a range at a time. */
export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes from `position` (fewer only past the end). */
  read(position: number, length: number): Promise<Uint8Array>;
}

/** A source over bytes already in memory (small assets, tests). */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: async (position, length) => bytes.subarray(position, Math.min(bytes.length, position + length)),
  };
}

export interface FileSource extends ByteSource {
  close(): Promise<void>;
}

/** A source over a file; the caller closes it. */
export async function openFileSource(path: string): Promise<FileSource> {
  const handle: FileHandle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    return {
      size,
      async read(position, length) {
        const wanted = Math.max(0, Math.min(length, size - position));
        const buffer = new Uint8Array(wanted);
        let filled = 0;
        while (filled < wanted) {
          const { bytesRead } = await handle.read(buffer, filled, wanted - filled, position + filled);
          if (bytesRead === 0) throw invalidArgument('the asset file ended before its announced size');
          filled += bytesRead;
        }
        return buffer;
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Reads `[offset, offset + length)` of a source in pieces of at most `chunkBytes`. */
export async function* readRange(source: ByteSource, offset: number, length: number, chunkBytes: number): AsyncGenerator<Uint8Array> {
  for (let at = offset, end = offset + length; at < end; ) {
    const piece = await source.read(at, Math.min(chunkBytes, end - at));
    if (piece.length === 0) throw invalidArgument('the asset ended before its announced size');
    at += piece.length;
    yield piece;
  }
}
