import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as workspace from '../workspace';

const root = workspace.root;
const packages = workspace.workspacePackages();

describe('the workspace package list is written once (pnpm-workspace.yaml)', () => {
  it('tsconfig.base.json paths are the ones generated from it (node infra/workspace.js tsconfig-paths)', () => {
    const config = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')) as {
      compilerOptions: { paths: unknown };
    };
    expect(config.compilerOptions.paths).toEqual(workspace.tsconfigPaths());
  });

  it('every folder with a package.json is in the list', () => {
    const listed = new Set(workspace.workspaceDirs());
    const onDisk = readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules')
      .flatMap((d) => (d.name === 'libs' ? readdirSync(join(root, 'libs')).map((l) => `libs/${l}`) : [d.name]))
      .filter((dir) => readdirSync(join(root, dir)).includes('package.json'));
    expect(onDisk.filter((dir) => !listed.has(dir))).toEqual([]);
  });
});

describe('each package.json lists exactly what its sources import (node infra/workspace.js deps)', () => {
  it.each(workspace.dependencyReport().map((r) => [r.dir, r] as const))('%s', (_dir, report) => {
    expect(report).toEqual({ dir: report.dir, missing: [], unused: [] });
  });

  it('sees every import form, and not type-only imports in what a build compiles in', () => {
    const q = "'"; // so that this file does not seem to import them itself
    const source = [
      `import a from ${q}pg${q};`,
      `import type { B } from ${q}@scope/b/sub${q};`,
      `export { c } from ${q}c-pkg${q};`,
      `import ${q}side${q};`,
      `const d = await import(${q}d${q});`,
      `require.resolve(${q}e${q});`,
      `import { f } from ${q}node:fs${q};`,
      `import g from ${q}./g${q};`,
      `import h from ${q}path${q};`,
    ].join('\n');
    const names = (specs: string[]) => [...new Set(specs.map(workspace.packageOf).filter(Boolean))].sort();
    expect(names(workspace.importSpecifiers(source))).toEqual(['@scope/b', 'c-pkg', 'd', 'e', 'pg', 'side']);
    expect(names(workspace.importSpecifiers(source, { valuesOnly: true }))).toEqual(['c-pkg', 'd', 'pg', 'side']);
  });
});

describe('workspace packages depend on each other without a cycle', () => {
  it('has no cycle through dependencies or devDependencies', () => {
    const byName = new Map(packages.map((p) => [p.name, p.manifest]));
    const edges = (name: string) =>
      Object.keys({ ...byName.get(name)?.dependencies, ...byName.get(name)?.devDependencies }).filter((d) =>
        byName.has(d),
      );
    const cycles = new Set<string>();
    const visit = (name: string, path: string[]) => {
      if (path.includes(name)) {
        cycles.add([...path.slice(path.indexOf(name)), name].join(' -> '));
        return;
      }
      for (const next of edges(name)) visit(next, [...path, name]);
    };
    for (const p of packages) visit(p.name, []);
    expect([...cycles]).toEqual([]);
  });
});
