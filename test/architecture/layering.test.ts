import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findViolations, moduleSpecifiers, readWorkspace, type WorkspacePackage } from './import-graph.js';
import { COMPOSITION_ROOT, LAYERS, SERVICES_DIR } from './layers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ARCHITECTURE = { layers: LAYERS, compositionRoot: COMPOSITION_ROOT, servicesDir: SERVICES_DIR };

describe('the workspace keeps its layers', () => {
  it('has no import that breaks a rule', () => {
    const packages = readWorkspace(ROOT);
    expect(packages.length).toBeGreaterThanOrEqual(LAYERS.flat().length);
    expect(findViolations(packages, ARCHITECTURE)).toEqual([]);
  });
});

// The same rules on a small made-up workspace, so that each one is seen to catch what it names.
const pkg = (name: string, dir: string, files: Record<string, string>, deps: string[] = [], devDeps: string[] = []): WorkspacePackage => ({
  name: `@c2pa-mesh/${name}`,
  dir,
  dependencies: new Set(deps.map((d) => `@c2pa-mesh/${d}`)),
  devDependencies: new Set(devDeps.map((d) => `@c2pa-mesh/${d}`)),
  files: Object.entries(files).map(([file, text]) => ({ path: `${dir}/src/${file}`, text })),
});
const SMALL = { layers: [['errors'], ['storage'], ['svc', 'gateway'], ['mesh']], compositionRoot: 'mesh', servicesDir: 'services' };
const clean = () => [
  pkg('errors', 'packages/errors', { 'index.ts': "export class MeshError extends Error {}\n" }),
  pkg('storage', 'packages/storage', { 'index.ts': "export * from './db.js';\n", 'db.ts': "import { MeshError } from '@c2pa-mesh/errors';\nexport const e = MeshError;\n" }, ['errors']),
  pkg('svc', 'services/svc', { 'index.ts': "import type { MeshError } from '@c2pa-mesh/errors';\nimport '@c2pa-mesh/storage';\nexport type E = MeshError;\n" }, ['errors', 'storage']),
  pkg('gateway', 'packages/gateway', { 'index.ts': "export {};\n" }, []),
  pkg('mesh', 'packages/mesh', { 'index.ts': "export * from '@c2pa-mesh/svc';\nexport * from '@c2pa-mesh/gateway';\n", 'testing.ts': "export const t = 1;\n" }, ['svc', 'gateway']),
];
const replace = (packages: WorkspacePackage[], next: WorkspacePackage) => packages.map((p) => (p.name === next.name ? next : p));

describe('the layering rules', () => {
  it('accept a workspace that keeps them', () => {
    expect(findViolations(clean(), SMALL)).toEqual([]);
  });

  it('see every kind of import the compiler knows', () => {
    const text = [
      "import {\n  a,\n  b,\n} from '@c2pa-mesh/one';",
      "export { c } from '@c2pa-mesh/two/sub';",
      "export * from './three.js';",
      "const m = await import('@c2pa-mesh/four');",
      "type T = import('@c2pa-mesh/five').T;",
      "// import x from '@c2pa-mesh/comment';",
      "const s = \"import y from '@c2pa-mesh/string'\";",
    ].join('\n');
    expect(moduleSpecifiers('x.ts', text)).toEqual(['@c2pa-mesh/one', '@c2pa-mesh/two/sub', './three.js', '@c2pa-mesh/four', '@c2pa-mesh/five']);
  });

  it('refuse a package that imports a service', () => {
    const packages = replace(clean(), pkg('gateway', 'packages/gateway', { 'index.ts': "import type { E } from '@c2pa-mesh/svc';\nexport type X = E;\n" }, ['svc']));
    expect(findViolations(packages, SMALL)).toEqual([expect.stringMatching(/^packages\/gateway\/src\/index\.ts imports the service @c2pa-mesh\/svc/), expect.stringMatching(/layer 2\) imports @c2pa-mesh\/svc \(layer 2\), a package of its own layer$/)]);
  });

  it('refuse a lower layer that imports a higher one', () => {
    const packages = replace(clean(), pkg('storage', 'packages/storage', { 'index.ts': "import '@c2pa-mesh/mesh';\n" }, ['errors', 'mesh']));
    expect(findViolations(packages, SMALL)).toEqual(['packages/storage/src/index.ts (storage, layer 1) imports @c2pa-mesh/mesh (layer 3), a higher layer']);
  });

  it('let tests reach higher layers they declare, and only those', () => {
    const declared = replace(clean(), pkg('storage', 'packages/storage', { 'index.ts': '', 'db.test.ts': "import { t } from '@c2pa-mesh/mesh/testing';\n" }, ['errors'], ['mesh']));
    expect(findViolations(declared, SMALL)).toEqual([]);
    const undeclared = replace(clean(), pkg('storage', 'packages/storage', { 'index.ts': '', 'test-support/kit.ts': "import { t } from '@c2pa-mesh/mesh/testing';\n" }, ['errors']));
    expect(findViolations(undeclared, SMALL)).toEqual([
      'packages/storage/src/test-support/kit.ts imports @c2pa-mesh/mesh, which packages/storage/package.json does not declare in dependencies or devDependencies',
    ]);
  });

  it('refuse an import of a workspace package that package.json does not declare', () => {
    const packages = replace(clean(), pkg('storage', 'packages/storage', { 'index.ts': "export * from './db.js';\n", 'db.ts': "import { MeshError } from '@c2pa-mesh/errors';\n" }, [], ['errors']));
    expect(findViolations(packages, SMALL)).toEqual(['packages/storage/src/db.ts imports @c2pa-mesh/errors, which packages/storage/package.json does not declare in dependencies']);
  });

  it('refuse a public index that ships test helpers, directly or through another module', () => {
    const direct = replace(clean(), pkg('errors', 'packages/errors', { 'index.ts': "export * from './testing.js';\n", 'testing.ts': '' }));
    expect(findViolations(direct, SMALL)).toEqual([expect.stringMatching(/^packages\/errors\/src\/index\.ts ships the test helper packages\/errors\/src\/testing\.ts/)]);
    const through = replace(clean(), pkg('errors', 'packages/errors', { 'index.ts': "export * from './all.js';\n", 'all.ts': "export { kit } from './test-support/kit.js';\n", 'test-support/kit.ts': '' }));
    expect(findViolations(through, SMALL)).toEqual([
      'packages/errors/src/index.ts ships the test helper packages/errors/src/test-support/kit.ts (packages/errors/src/index.ts → packages/errors/src/all.ts → packages/errors/src/test-support/kit.ts): expose it as a "./testing" subpath export instead',
    ]);
  });

  it("refuse shipped code that imports another package's test helpers, which its tests may use", () => {
    const shipped = replace(clean(), pkg('svc', 'services/svc', { 'index.ts': "import { t } from '@c2pa-mesh/storage/testing';\nexport const u = t;\n" }, ['errors', 'storage']));
    expect(findViolations(shipped, SMALL)).toEqual(["services/svc/src/index.ts ships an import of the test helper @c2pa-mesh/storage/testing: only tests and test helpers may use it"]);
    const deep = replace(clean(), pkg('svc', 'services/svc', { 'index.ts': '', 'kit.ts': "import '@c2pa-mesh/storage/test-support/db';\n" }, ['errors', 'storage']));
    expect(findViolations(deep, SMALL)).toEqual(["services/svc/src/kit.ts ships an import of the test helper @c2pa-mesh/storage/test-support/db: only tests and test helpers may use it"]);
    const inTests = replace(clean(), pkg('svc', 'services/svc', { 'index.ts': '', 'svc.test.ts': "import '@c2pa-mesh/storage/testing';\n", 'test-support/kit.ts': "import '@c2pa-mesh/storage/test-support';\n" }, ['errors', 'storage']));
    expect(findViolations(inTests, SMALL)).toEqual([]);
  });

  it('refuse a reach into another package by path, and packages left out of the layers', () => {
    const byPath = replace(clean(), pkg('gateway', 'packages/gateway', { 'index.ts': "import '../../../services/svc/src/index.js';\n" }));
    expect(findViolations(byPath, SMALL)).toEqual([expect.stringMatching(/^packages\/gateway\/src\/index\.ts reaches into services\/svc\/src\/index\.ts by path/)]);
    const extra = [...clean(), pkg('stray', 'packages/stray', { 'index.ts': '' })];
    expect(findViolations(extra, SMALL)).toEqual(['@c2pa-mesh/stray (packages/stray) is in no layer: add it to the layers']);
  });
});
