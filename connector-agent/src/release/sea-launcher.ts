// The main script of the single executable (Node's SEA). A SEA's main script can require only
// built-in modules, and the agent needs files beside it: its worker threads' scripts
// (transform-worker.js, vm-worker.js, started by path) and the WebAssembly modules that libpg-query
// and QuickJS read from their own folder. So the release build carries the bundled agent as assets,
// and this writes them into a private temporary folder (0700, new for each process, removed at exit)
// and runs the agent from there: the agent's code is the same file as in a build from the sources.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAsset } from 'node:sea';

interface Manifest {
  main: string;
  files: string[];
}

const manifest = JSON.parse(getAsset('manifest.json', 'utf8')) as Manifest;
const dir = mkdtempSync(join(tmpdir(), 'mini-connector-'));
const cleanup = () => rmSync(dir, { recursive: true, force: true });
process.on('exit', cleanup);
// An update execs the new executable, which skips exit handlers: the agent calls this first.
(globalThis as { __vscSeaCleanup?: () => void }).__vscSeaCleanup = cleanup;
for (const file of manifest.files) {
  writeFileSync(join(dir, file), new Uint8Array(getAsset(file)), { mode: 0o600 });
}
const mainPath = join(dir, manifest.main);
const agent = createRequire(mainPath)(mainPath) as { startCli(): void };
agent.startCli();
