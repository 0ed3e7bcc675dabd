/**
 * `Uint8Array.prototype.toBase64` and `setFromBase64` (TC39 "Uint8Array to/from base64", native
 * from Node 25) backed by `Buffer`, installed only where the runtime lacks them.
 *
 * Why: protobuf-es encodes and decodes JSON `bytes` through these methods when the runtime has
 * them, and otherwise through a JavaScript loop that costs about 160 ms per MiB on Node 20; a
 * JSON Sign of a 1 MiB asset paid that twice. `Buffer` does the same work natively in a few
 * milliseconds. No maintained package backs the proposal with `Buffer` (core-js's polyfill is a
 * JavaScript loop too), so these few lines are written here.
 *
 * protobuf-es reads the methods once, when its wire module loads: import this module before
 * anything that imports `@bufbuild/protobuf` (it is the first import of the mesh's entry point).
 */

interface ToBase64Options {
  alphabet?: 'base64' | 'base64url';
  omitPadding?: boolean;
}

interface Base64Prototype {
  toBase64?: (this: Uint8Array, options?: ToBase64Options) => string;
  setFromBase64?: (this: Uint8Array, input: string, options?: { alphabet?: 'base64' | 'base64url' }) => { read: number; written: number };
}

/**
 * The number of bytes strict standard base64 of this length decodes to (padded or not, padding
 * at the end only), or undefined when no such text has this length.
 */
function strictDecodedLength(input: string): number | undefined {
  const length = input.length;
  if (length % 4 === 1) return undefined;
  if (length % 4 !== 0) return Math.floor((length * 3) / 4);
  if (input.endsWith('==')) return (length / 4) * 3 - 2;
  return (length / 4) * 3 - (input.endsWith('=') ? 1 : 0);
}

function toBase64(this: Uint8Array, options?: ToBase64Options): string {
  const buffer = Buffer.from(this.buffer, this.byteOffset, this.byteLength);
  if (options?.alphabet === 'base64url') {
    const text = buffer.toString('base64url'); // Node's base64url never pads
    return options.omitPadding ? text : text + '='.repeat((4 - (text.length % 4)) % 4);
  }
  const text = buffer.toString('base64');
  return options?.omitPadding ? text.replace(/=+$/, '') : text;
}

/**
 * Decodes strict standard base64 only, straight into the array. `Buffer` skips characters
 * outside the alphabet (white space, `$`) and stops at inner padding, and each character skipped
 * leaves fewer bytes than the text's length promises (a length that would hide one is no base64
 * length at all): such input throws, as the native method does for most of it, and protobuf-es
 * then falls back to its own lenient decoder, so what it accepts and refuses does not change.
 * (`Buffer` also reads the URL alphabet, to the same bytes protobuf-es's decoder gives it.)
 */
function setFromBase64(this: Uint8Array, input: string, options?: { alphabet?: string }): { read: number; written: number } {
  const expected = options?.alphabet === 'base64url' ? undefined : strictDecodedLength(input);
  if (expected === undefined || expected > this.byteLength) throw new SyntaxError('not strict standard base64');
  const written = Buffer.from(this.buffer, this.byteOffset, this.byteLength).write(input, 'base64');
  if (written !== expected) throw new SyntaxError('not strict standard base64');
  return { read: input.length, written };
}

/** Installs the methods the runtime lacks; returns which were installed. */
export function installNativeBase64(): string[] {
  const prototype = Uint8Array.prototype as unknown as Base64Prototype;
  const installed: string[] = [];
  if (typeof prototype.toBase64 !== 'function') {
    Object.defineProperty(prototype, 'toBase64', { value: toBase64, writable: true, configurable: true });
    installed.push('toBase64');
  }
  if (typeof prototype.setFromBase64 !== 'function') {
    Object.defineProperty(prototype, 'setFromBase64', { value: setFromBase64, writable: true, configurable: true });
    installed.push('setFromBase64');
  }
  return installed;
}

installNativeBase64();
