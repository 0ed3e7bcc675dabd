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

const OUTSIDE_STANDARD_ALPHABET = /[^A-Za-z0-9+/=]/;

/**
 * Strict standard base64, padded or not: what `Buffer` decodes exactly as the proposal does
 * (Buffer itself skips characters it does not know instead of refusing them). One scan for the
 * alphabet and a look at the padding, no backtracking, whatever the length.
 */
function isStrictBase64(input: string): boolean {
  if (OUTSIDE_STANDARD_ALPHABET.test(input)) return false;
  const padding = input.indexOf('=');
  if (padding < 0) return input.length % 4 !== 1;
  const tail = input.slice(padding);
  return input.length % 4 === 0 && (tail === '=' || tail === '==');
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
 * Decodes strict standard base64 only. Anything else (white space, the URL alphabet, inner
 * padding) throws, as the native method does for most of it, and protobuf-es then falls back to
 * its own lenient decoder, so what it accepts and refuses does not change.
 */
function setFromBase64(this: Uint8Array, input: string, options?: { alphabet?: string }): { read: number; written: number } {
  if (options?.alphabet === 'base64url' || !isStrictBase64(input)) {
    throw new SyntaxError('not strict standard base64');
  }
  const decoded = Buffer.from(input, 'base64');
  if (decoded.byteLength > this.byteLength) throw new SyntaxError('decoded base64 does not fit the target');
  this.set(decoded);
  return { read: input.length, written: decoded.byteLength };
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
