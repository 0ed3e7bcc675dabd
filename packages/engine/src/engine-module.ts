import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * c2pa-rs compiled once per process and shared by every engine worker thread (a compiled
 * WebAssembly module crosses threads without copying its code). Sharing matters for more than
 * start-up: V8 optimises a module's hot functions as they run and keeps that code with the
 * module, so a worker started to replace a recycled one runs the engine's optimised code at once
 * instead of starting cold. Compilation itself is lazy (functions compile on first call); this
 * only validates the binary.
 */

/** The ES2023 lib this project compiles against has no WebAssembly declarations. */
type WasmModule = object;
const { Module } = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => WasmModule } }).WebAssembly;

let compiled: WasmModule | undefined;

export function engineModule(): WasmModule {
  compiled ??= new Module(readFileSync(createRequire(import.meta.url).resolve('@contentauth/c2pa-wasm/c2pa.wasm')));
  return compiled;
}
