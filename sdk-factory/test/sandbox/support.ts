import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHostHttp, type EgressResolver, type HostHttp, type HostHttpOptions } from '../../src/sandbox';
import { createSandbox, SandboxError, type CredentialProvider } from '../../src/sandbox';
import type { ApiOperationHost } from '../../src/runner';

/** A real local HTTP server standing in for a tenant's API; it records what reached it. */
export async function startApi(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{
  port: number;
  seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  close: () => Promise<void>;
}> {
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString();
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A hosts map in place of DNS (there is no public DNS here). */
export const hostsResolver =
  (map: Record<string, string>): EgressResolver =>
  async (hostname) => {
    const address = map[hostname];
    if (!address) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return [{ address, family: address.includes(':') ? 6 : 4 }];
  };

/** The failure's code and message, or 'ok: <result>' when the call succeeded. */
export async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    return `ok: ${JSON.stringify(await p)}`;
  } catch (err) {
    if (err instanceof SandboxError) return `${err.code}: ${err.message}`;
    return `NOT A SANDBOX ERROR: ${String(err)}`;
  }
}

/**
 * Builds an AssemblyScript plugin with the registry's compiler (npm: assemblyscript): the source is
 * copied to a temporary index.ts (asc wants a .ts entry) and compiled with the stub runtime and no
 * abort import, so the module imports the Extism kernel and the host function only.
 */
export function buildAssemblyScriptPlugin(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-as-'));
  try {
    copyFileSync(source, join(dir, 'index.ts'));
    const asc = join(dirname(require.resolve('assemblyscript/package.json')), 'bin', 'asc.js');
    const out = join(dir, 'plugin.wasm');
    const run = spawnSync(
      process.execPath,
      [asc, join(dir, 'index.ts'), '--outFile', out, '--runtime', 'stub', '--use', 'abort=', '-O2'],
      {
        encoding: 'utf8',
      },
    );
    if (run.status !== 0) throw new Error(`asc failed: ${run.stderr || run.stdout}`);
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The guarded host HTTP of the tests: the cloud side, `api.example` on the local server's port
 * (127.0.0.1 through a hosts map stands in for its public address, hence allowPrivate).
 */
export function testHostHttp(port: number, options: Partial<HostHttpOptions> = {}): HostHttp {
  return createHostHttp({
    side: 'cloud',
    allow: [{ host: 'api.example', ports: [port] }],
    allowPrivate: true,
    resolver: hostsResolver({ 'api.example': '127.0.0.1' }),
    timeoutMs: 5_000,
    maxResponseBytes: 64 * 1024,
    ...options,
  });
}

/**
 * The host the runner's tests run an API operation with: a sandbox, the cloud side's egress to
 * `erp.example` on the local server's port (127.0.0.1 through a hosts map stands in for the API's
 * public address, hence allowPrivate), `moreHosts` resolvable but not allowed, and the credentials.
 */
export function testOperationHost(
  port: number,
  credentials: CredentialProvider,
  moreHosts: Record<string, string> = {},
): ApiOperationHost {
  return {
    sandbox: createSandbox({ timeoutMs: 10_000 }),
    egress: {
      side: 'cloud',
      allow: [{ host: 'erp.example', ports: [port] }],
      allowPrivate: true,
      resolver: hostsResolver({ 'erp.example': '127.0.0.1', ...moreHosts }),
      timeoutMs: 5_000,
      maxResponseBytes: 1024 * 1024,
    },
    credentials,
  };
}
