/**
 * c2pa-wasm's builder reads its source asset from a Blob through `FileReaderSync`, an API only
 * browsers' dedicated workers have; Node has no synchronous way to read a Blob at all. The engine
 * therefore hands the builder an in-memory Blob that keeps a reference to its bytes, and installs
 * a stand-in `FileReaderSync` whose `readAsArrayBuffer` returns them. Written by hand: no package
 * provides this, and it is a few lines.
 */

const backingBytes = new WeakMap<object, Uint8Array>();

/**
 * A Blob over bytes already in memory. The engine only calls `size`, `type` and `slice`, then
 * reads the slice through `FileReaderSync`; slices share the backing bytes instead of copying.
 */
export class InMemoryBlob {
  readonly type: string;

  constructor(bytes: Uint8Array, type = '') {
    backingBytes.set(this, bytes);
    this.type = type;
  }

  get size(): number {
    return bytesOf(this).byteLength;
  }

  slice(start = 0, end?: number, contentType = ''): InMemoryBlob {
    // Blob.slice semantics: negative offsets count from the end, both are clamped to the size.
    const size = this.size;
    const clamp = (n: number) => (n < 0 ? Math.max(size + n, 0) : Math.min(n, size));
    const from = clamp(start);
    const to = Math.max(from, clamp(end ?? size));
    return new InMemoryBlob(bytesOf(this).subarray(from, to), contentType);
  }

  /** What the engine's Blob parameters are typed as; it never calls more than the above. */
  asBlob(): Blob {
    return this as unknown as Blob;
  }
}

function bytesOf(blob: object): Uint8Array {
  const bytes = backingBytes.get(blob);
  if (bytes === undefined) {
    throw new TypeError('FileReaderSync stand-in can only read blobs created by InMemoryBlob');
  }
  return bytes;
}

/** The part of the browser's FileReaderSync the engine uses. */
export class InMemoryFileReaderSync {
  readAsArrayBuffer(blob: object): ArrayBuffer {
    const bytes = bytesOf(blob);
    if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
      return bytes.buffer;
    }
    return bytes.slice().buffer;
  }
}

/**
 * Installs the stand-in as the global `FileReaderSync` of this thread (each worker thread has its
 * own globals, so every engine worker calls this). A real FileReaderSync, where one exists, stays.
 */
export function installFileReaderSync(target: Record<string, unknown> = globalThis as unknown as Record<string, unknown>): void {
  if (typeof target.FileReaderSync === 'function') return;
  target.FileReaderSync = InMemoryFileReaderSync;
}
