/**
 * The workspace's import graph, read with the TypeScript compiler's parser (so that multi-line
 * imports, `export … from`, `import()` and `import('…').Type` are all seen; a regular expression
 * over the text would miss some and match comments), and the rules it must keep.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const SCOPE = '@c2pa-mesh/';
/** The repository's own test harness: shared by tests across packages, shipped by none. */
const SHARED_TEST_HARNESS = 'test/support/';

export interface SourceText {
  /** Repository-relative, `/`-separated. */
  path: string;
  text: string;
}

export interface WorkspacePackage {
  /** The package.json name, e.g. `@c2pa-mesh/service-signing`. */
  name: string;
  /** Repository-relative directory, e.g. `services/signing`. */
  dir: string;
  dependencies: ReadonlySet<string>;
  devDependencies: ReadonlySet<string>;
  files: readonly SourceText[];
}

export interface Architecture {
  layers: readonly (readonly string[])[];
  compositionRoot: string;
  servicesDir: string;
}

/** Every module specifier in a TypeScript source: static, re-export, dynamic and type imports. */
export function moduleSpecifiers(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      found.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      found.push(node.moduleReference.expression.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Test helpers: test files, anything under a `test-support/` directory, and `testing.ts` modules. */
export function isTestHelper(file: string): boolean {
  return file.endsWith('.test.ts') || file.split('/').includes('test-support') || path.posix.basename(file) === 'testing.ts';
}

/** `@c2pa-mesh/engine/test-support` → `@c2pa-mesh/engine`; undefined for anything outside the scope. */
function workspaceName(specifier: string): string | undefined {
  if (!specifier.startsWith(SCOPE)) return undefined;
  return SCOPE + specifier.slice(SCOPE.length).split('/')[0];
}

const shortName = (name: string) => name.slice(SCOPE.length);

/** The file a relative specifier names (`./x.js` is `./x.ts` in this source tree). */
function resolveRelative(from: string, specifier: string, known: ReadonlySet<string>): string {
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  const candidates = [joined.replace(/\.js$/, '.ts'), joined, `${joined}.ts`, `${joined}/index.ts`];
  return candidates.find((c) => known.has(c)) ?? candidates[0]!;
}

/** Every rule the architecture asks for, as one readable line per violation. */
export function findViolations(packages: readonly WorkspacePackage[], architecture: Architecture): string[] {
  const violations: string[] = [];
  const layerOf = new Map<string, number>();
  architecture.layers.forEach((layer, index) => layer.forEach((name) => layerOf.set(name, index)));
  const byName = new Map(packages.map((p) => [p.name, p]));
  const isService = (p: WorkspacePackage) => p.dir.split('/')[0] === architecture.servicesDir;

  for (const name of layerOf.keys()) {
    if (!byName.has(SCOPE + name)) violations.push(`layers name ${SCOPE}${name}, which is no workspace package`);
  }

  for (const pkg of packages) {
    const own = shortName(pkg.name);
    const ownLayer = layerOf.get(own);
    if (ownLayer === undefined) {
      violations.push(`${pkg.name} (${pkg.dir}) is in no layer: add it to the layers`);
      continue;
    }
    for (const declared of [...pkg.dependencies, ...pkg.devDependencies]) {
      if (declared.startsWith(SCOPE) && !byName.has(declared)) violations.push(`${pkg.dir}/package.json declares ${declared}, which is no workspace package`);
    }
    const known = new Set(pkg.files.map((f) => f.path));
    const relativeImports = new Map<string, string[]>();

    for (const file of pkg.files) {
      const testHelper = isTestHelper(file.path);
      const relative: string[] = [];
      for (const specifier of moduleSpecifiers(file.path, file.text)) {
        if (specifier.startsWith('.')) {
          const target = resolveRelative(file.path, specifier, known);
          // Tests may use the repository's shared test harness (test/support/), which is no package.
          const sharedHarness = testHelper && target.startsWith(SHARED_TEST_HARNESS);
          if (!target.startsWith(`${pkg.dir}/`) && !sharedHarness) violations.push(`${file.path} reaches into ${target} by path: import the package by its name instead`);
          else relative.push(target);
          continue;
        }
        const target = workspaceName(specifier);
        if (target === undefined || target === pkg.name) continue;
        const targetPackage = byName.get(target);
        if (!targetPackage) {
          violations.push(`${file.path} imports ${specifier}, which is no workspace package`);
          continue;
        }
        // Another package's test helpers (its "./testing" or "./test-support…" exports) are for tests.
        const subpath = specifier.slice(target.length + 1).split('/');
        if (!testHelper && (subpath.includes('testing') || subpath.includes('test-support'))) {
          violations.push(`${file.path} ships an import of the test helper ${specifier}: only tests and test helpers may use it`);
        }
        const declared = pkg.dependencies.has(target) || (testHelper && pkg.devDependencies.has(target));
        if (!declared) {
          violations.push(`${file.path} imports ${target}, which ${pkg.dir}/package.json does not declare in ${testHelper ? 'dependencies or devDependencies' : 'dependencies'}`);
        }
        if (isService(targetPackage) && !isService(pkg) && own !== architecture.compositionRoot) {
          violations.push(`${file.path} imports the service ${target}: only ${SCOPE}${architecture.compositionRoot} assembles services; packages must not depend on them`);
        }
        // Tests may assemble a whole mesh, so only what ships is held to the order.
        const targetLayer = layerOf.get(shortName(target));
        if (!testHelper && targetLayer !== undefined && targetLayer >= ownLayer) {
          const relation = targetLayer === ownLayer ? 'a package of its own layer' : 'a higher layer';
          violations.push(`${file.path} (${own}, layer ${ownLayer}) imports ${target} (layer ${targetLayer}), ${relation}`);
        }
      }
      relativeImports.set(file.path, relative);
    }

    // What the public index reaches through relative imports must not be a test helper.
    const index = `${pkg.dir}/src/index.ts`;
    if (known.has(index)) {
      const seen = new Set<string>([index]);
      const queue: { file: string; via: string[] }[] = [{ file: index, via: [index] }];
      while (queue.length > 0) {
        const { file, via } = queue.shift()!;
        for (const target of relativeImports.get(file) ?? []) {
          if (seen.has(target)) continue;
          seen.add(target);
          if (isTestHelper(target)) {
            violations.push(`${index} ships the test helper ${target} (${[...via, target].join(' → ')}): expose it as a "./testing" subpath export instead`);
          } else {
            queue.push({ file: target, via: [...via, target] });
          }
        }
      }
    }
  }
  return [...new Set(violations)];
}

function sourceFiles(root: string, dir: string): SourceText[] {
  const out: SourceText[] = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...sourceFiles(root, relative));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      out.push({ path: relative, text: readFileSync(path.join(root, relative), 'utf8') });
    }
  }
  return out;
}

const workspaceNames = (manifest: { name?: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> }, field: 'dependencies' | 'devDependencies') =>
  new Set(Object.keys(manifest[field] ?? {}).filter((n) => n.startsWith(SCOPE)));

/** The workspace packages of the repository at `root` (its package.json `workspaces`, `dir/*` globs). */
export function readWorkspace(root: string): WorkspacePackage[] {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
  const packages: WorkspacePackage[] = [];
  for (const pattern of manifest.workspaces) {
    if (!pattern.endsWith('/*')) throw new Error(`workspace pattern ${pattern} is not of the form dir/*`);
    const parent = pattern.slice(0, -2);
    for (const entry of readdirSync(path.join(root, parent)).sort()) {
      const dir = `${parent}/${entry}`;
      const manifestPath = path.join(root, dir, 'package.json');
      if (!statSync(path.join(root, dir)).isDirectory()) continue;
      const pkg = JSON.parse(readFileSync(manifestPath, 'utf8'));
      const srcDir = path.join(root, dir, 'src');
      packages.push({
        name: pkg.name,
        dir,
        dependencies: workspaceNames(pkg, 'dependencies'),
        devDependencies: workspaceNames(pkg, 'devDependencies'),
        files: statSync(srcDir, { throwIfNoEntry: false })?.isDirectory() ? sourceFiles(root, `${dir}/src`) : [],
      });
    }
  }
  return packages;
}
