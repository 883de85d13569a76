// Types of workspace.js (plain CommonJS, so jest.config.js can read it unbuilt).
export interface WorkspacePackage {
  dir: string;
  name: string;
  manifest: {
    name: string;
    version: string;
    bin?: Record<string, string>;
    scripts?: Record<string, string>;
    exports?: Record<string, string>;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
}
export const root: string;
export function workspaceDirs(): string[];
export function workspacePackages(): WorkspacePackage[];
export function workspaceEntryPoints(): { specifier: string; file: string }[];
export function tsconfigPaths(): Record<string, string[]>;
export function writeTsconfigPaths(): void;
export function packageOf(specifier: string): string | undefined;
export function importSpecifiers(source: string, options?: { valuesOnly?: boolean }): string[];
export function dependencyReport(): { dir: string; missing: string[]; unused: string[] }[];
