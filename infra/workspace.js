// The workspace's packages, read from pnpm-workspace.yaml: the one place the package list is written.
// Plain CommonJS so that jest.config.js, the tsconfig generator and the tests can all use it unbuilt.
const { existsSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');

/** Package folders named by pnpm-workspace.yaml (`- dir` or `- dir/*` entries under `packages:`). */
function workspaceDirs() {
  const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const entries = [...yaml.matchAll(/^\s+-\s+['"]?([^'"\s#]+)['"]?/gm)].map((m) => m[1]);
  return entries.flatMap((entry) => {
    if (!entry.endsWith('/*')) return [entry];
    const parent = entry.slice(0, -2);
    return readdirSync(join(root, parent), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(root, parent, d.name, 'package.json')))
      .map((d) => `${parent}/${d.name}`)
      .sort();
  });
}

/** Each workspace package: its folder (relative to the root), name and manifest. */
function workspacePackages() {
  return workspaceDirs().map((dir) => {
    const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    return { dir, name: manifest.name, manifest };
  });
}

/** Every import specifier a package exports (`@vansales/x`, `@vansales/x/sub`) with the file it resolves to. */
function workspaceEntryPoints() {
  return workspacePackages().flatMap(({ dir, name, manifest }) =>
    Object.entries(manifest.exports ?? {}).map(([sub, target]) => ({
      specifier: sub === '.' ? name : `${name}/${sub.replace(/^\.\//, '')}`,
      file: `${dir}/${String(target).replace(/^\.\//, '')}`,
    })),
  );
}

/** tsconfig.base.json's `paths`, made from the entry points (TypeScript's node10 resolution ignores `exports`). */
function tsconfigPaths() {
  return Object.fromEntries(
    workspaceEntryPoints()
      .filter((e) => e.file.endsWith('.ts'))
      .map((e) => [e.specifier, [e.file]]),
  );
}

/** Rewrites tsconfig.base.json's paths; a test fails when the file differs from what this would write. */
function writeTsconfigPaths() {
  const file = join(root, 'tsconfig.base.json');
  const config = JSON.parse(readFileSync(file, 'utf8'));
  config.compilerOptions.paths = tsconfigPaths();
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
}

const { builtinModules } = require('node:module');
const { dirname } = require('node:path');

const builtins = new Set(builtinModules);
const IMPORT_FORMS = [
  /\bfrom\s+'([^']+)'/g,
  /\bimport\s+'([^']+)'/g,
  /\bimport\(\s*'([^']+)'\s*\)/g,
  /\brequire(?:\.resolve)?\(\s*'([^']+)'\s*\)/g,
];

/** `@scope/name/sub` -> `@scope/name`, `pkg/sub` -> `pkg`; undefined for relative paths and Node built-ins. */
function packageOf(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return builtins.has(name) ? undefined : name;
}

/** Every specifier a source imports: static and dynamic imports, re-exports, require and require.resolve. */
function importSpecifiers(source, { valuesOnly = false } = {}) {
  // Type-only imports vanish from a build, so they do not count for what a bundle needs at run time.
  // require.resolve only finds a path (Temporal's bundler compiles what it names), so it does not count either.
  const text = valuesOnly
    ? source.replace(/^\s*(import|export)\s+type\s[^;]*;/gm, '').replace(/\brequire\.resolve\(/g, '')
    : source;
  return IMPORT_FORMS.flatMap((form) => [...text.matchAll(form)].map((m) => m[1]));
}

/** Source, test and config files of one package folder (not node_modules or build output). */
function filesOf(dir) {
  const out = [];
  const walk = (folder) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|tsx|js|mjs|cjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
    }
  };
  walk(join(root, dir));
  return out;
}

function resolveRelative(from, specifier) {
  const base = join(dirname(from), specifier);
  return [`${base}.ts`, `${base}.js`, join(base, 'index.ts'), base].find((f) => existsSync(f) && !readdirSafe(f));
}
function readdirSafe(path) {
  try {
    readdirSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The worker-thread entries a process builds beside its main (its tsup.config.ts names constants of
 * tsup.process.ts, `{ 'vm-worker': '../sdk-factory/src/sandbox/vm-worker.ts' }`): code of other
 * packages that runs in its process, so their npm imports are its run-time dependencies too.
 */
function workerEntries(dir) {
  let config;
  let shared;
  try {
    config = readFileSync(join(root, dir, 'tsup.config.ts'), 'utf8');
    shared = readFileSync(join(root, 'tsup.process.ts'), 'utf8');
  } catch {
    return [];
  }
  const files = [];
  for (const [, name, body] of shared.matchAll(/export const (\w+_ENTRY) = (\{[^}]*\})/g))
    if (new RegExp(`\\b${name}\\b`).test(config))
      for (const [, path] of body.matchAll(/:\s*'([^']+)'/g)) files.push(join(root, dir, path));
  return files;
}

/**
 * Does each package.json list exactly what the package imports? A package that builds (tsup, which
 * compiles workspace packages in and leaves npm packages outside) also needs, at run time, every npm
 * package that the workspace code it compiles in imports: those count as imported by it too.
 */
function dependencyReport() {
  const packages = workspacePackages();
  const entries = new Map(workspaceEntryPoints().map((e) => [e.specifier, join(root, e.file)]));
  const rootDev = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies ?? {};
  /** npm packages reachable at run time from these files, through relative and workspace imports. */
  const bundled = (files) => {
    const seen = new Set();
    const found = new Set();
    const queue = [...files];
    while (queue.length) {
      const file = queue.pop();
      if (seen.has(file) || !/\.(ts|js)$/.test(file)) continue;
      seen.add(file);
      for (const spec of importSpecifiers(readFileSync(file, 'utf8'), { valuesOnly: true })) {
        if (spec.startsWith('.')) {
          const next = resolveRelative(file, spec);
          if (next) queue.push(next);
        } else if (entries.has(spec)) queue.push(entries.get(spec));
        else if (packageOf(spec) && !packageOf(spec).startsWith('@vansales/')) found.add(packageOf(spec));
      }
    }
    return found;
  };
  return packages.map(({ dir, name, manifest }) => {
    const files = filesOf(dir);
    const imported = new Set(
      files
        .flatMap((f) => importSpecifiers(readFileSync(f, 'utf8')))
        .map(packageOf)
        .filter(Boolean),
    );
    if (manifest.scripts?.build)
      for (const p of bundled([...files.filter((f) => f.startsWith(join(root, dir, 'src'))), ...workerEntries(dir)]))
        imported.add(p);
    imported.delete(name);
    // A peer that an imported package requires at run time (next needs react-dom) is used too.
    for (const p of [...imported]) {
      const peerManifest = join(root, dir, 'node_modules', p, 'package.json');
      if (!existsSync(peerManifest)) continue;
      for (const peer of Object.keys(JSON.parse(readFileSync(peerManifest, 'utf8')).peerDependencies ?? {}))
        if (peer in (manifest.dependencies ?? {})) imported.add(peer);
    }
    const declared = new Set(
      ['dependencies', 'devDependencies', 'peerDependencies'].flatMap((k) => Object.keys(manifest[k] ?? {})),
    );
    // Tools every package shares (typescript, jest, tsup, eslint, tsx) come from the root manifest.
    const missing = [...imported].filter((p) => !declared.has(p) && !(p in rootDev)).sort();
    // A type package counts as used when the package it types is imported.
    const unused = [...declared]
      .filter((p) => !imported.has(p) && !(p.startsWith('@types/') && imported.has(p.slice('@types/'.length))))
      .sort();
    return { dir, missing, unused };
  });
}

module.exports = {
  root,
  workspaceDirs,
  workspacePackages,
  workspaceEntryPoints,
  tsconfigPaths,
  writeTsconfigPaths,
  packageOf,
  importSpecifiers,
  dependencyReport,
};

if (require.main === module) {
  if (process.argv[2] === 'tsconfig-paths') writeTsconfigPaths();
  else if (process.argv[2] === 'dirs') process.stdout.write(`${workspaceDirs().join('\n')}\n`);
  else if (process.argv[2] === 'deps')
    for (const r of dependencyReport())
      process.stdout.write(`${r.dir}: missing ${r.missing.join(' ') || '-'}; unused ${r.unused.join(' ') || '-'}\n`);
  else {
    process.stderr.write('usage: node infra/workspace.js <tsconfig-paths|dirs|deps>\n');
    process.exitCode = 2;
  }
}
