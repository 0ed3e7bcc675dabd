import path from 'node:path';
import { defineConfig } from 'vite';

// The console's build: Preact's JSX, served under /console/ by the mesh. No inline scripts or
// styles (the Content-Security-Policy forbids them), no source maps (nothing to debug in prod).
export default defineConfig({
  root: path.resolve(import.meta.dirname, 'web'),
  base: '/console/',
  publicDir: false,
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
});
