// Compiles a generated SDK in memory with the TypeScript compiler API under `--strict` (and
// noUncheckedIndexedAccess, isolatedModules: what esbuild and our own code assume), no emit. The
// generator's guarantee is "zero errors for every specification we accept"; tests and the benchmark
// check it with this.
import { dirname, join } from 'node:path';
import ts from 'typescript';

const ROOT = '/sdk/';

export const SDK_COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  noUncheckedIndexedAccess: true,
  isolatedModules: true,
  target: ts.ScriptTarget.ES2020,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2020.d.ts'],
  types: [],
  skipLibCheck: true,
};

// The standard library's declarations are parsed once per process: they dominate the cost of a small SDK.
const libraries = new Map<string, ts.SourceFile>();

export interface TypeCheckResult {
  /** `file(line,col): TSxxxx message`, empty when the SDK compiles. */
  readonly errors: string[];
}

export function typeCheckSdk(files: Readonly<Record<string, string>>): TypeCheckResult {
  const libDir = dirname(ts.getDefaultLibFilePath(SDK_COMPILER_OPTIONS));
  const virtual = new Map(Object.entries(files).map(([path, source]) => [`${ROOT}${path}`, source]));
  const host: ts.CompilerHost = {
    getSourceFile: (fileName, languageVersion) => {
      const source = virtual.get(fileName);
      if (source !== undefined) return ts.createSourceFile(fileName, source, languageVersion, true);
      if (!fileName.startsWith(libDir)) return undefined;
      let library = libraries.get(fileName);
      if (library === undefined) {
        const text = ts.sys.readFile(fileName);
        if (text === undefined) return undefined;
        library = ts.createSourceFile(fileName, text, languageVersion, true);
        libraries.set(fileName, library);
      }
      return library;
    },
    getDefaultLibFileName: (options) => join(libDir, ts.getDefaultLibFileName(options)),
    writeFile: () => undefined,
    getCurrentDirectory: () => ROOT,
    getCanonicalFileName: (fileName) => fileName,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => '\n',
    fileExists: (fileName) => virtual.has(fileName) || (fileName.startsWith(libDir) && ts.sys.fileExists(fileName)),
    readFile: (fileName) =>
      virtual.get(fileName) ?? (fileName.startsWith(libDir) ? ts.sys.readFile(fileName) : undefined),
    directoryExists: (directory) =>
      directory === libDir || [...virtual.keys()].some((key) => key.startsWith(`${directory}/`)),
    getDirectories: () => [],
  };
  const program = ts.createProgram(
    [...virtual.keys()].filter((name) => name.endsWith('.ts')),
    SDK_COMPILER_OPTIONS,
    host,
  );
  const errors = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (diagnostic.file === undefined || diagnostic.start === undefined) return `TS${diagnostic.code}: ${message}`;
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    return `${diagnostic.file.fileName.slice(ROOT.length)}(${line + 1},${character + 1}): TS${diagnostic.code} ${message}`;
  });
  return { errors };
}
