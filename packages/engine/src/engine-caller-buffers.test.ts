import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from './engine.js';
import type { C2paEngine } from './types.js';
import { mediaDir } from './test-support/media-fixtures.js';
import path from 'node:path';

let engine: C2paEngine;
beforeAll(async () => {
  engine = createEngine({ threads: 1 });
  await engine.warmup();
});
afterAll(async () => {
  await engine.close();
});

describe("the caller's bytes", () => {
  it('stay usable after a read of a Buffer that is a view into a larger buffer', async () => {
    // What a network client hands over: a Buffer over part of a larger (response) buffer.
    const file = readFileSync(path.join(mediaDir, 'C.jpg'));
    const backing = Buffer.alloc(file.length + 8);
    file.copy(backing, 4);
    const view = backing.subarray(4, 4 + file.length);
    const report = await engine.read({ format: 'image/jpeg', asset: view });
    expect(report?.validationState).toBe('Valid');
    expect(view.buffer.byteLength).toBe(file.length + 8);
    expect(Buffer.compare(view, file)).toBe(0);
    expect((await engine.read({ format: 'image/jpeg', asset: view }))?.validationState).toBe('Valid');
  });
});
