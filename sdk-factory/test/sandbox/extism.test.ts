import { join } from 'node:path';
import { runPluginOperation, type HostHttp } from '../../src/sandbox';
import { buildAssemblyScriptPlugin, outcome, startApi, testHostHttp } from './support';

const SECRET = 'plugin-secret-456';

/** An operation packaged as an Extism plugin, built from AssemblyScript (npm) at test time, run as a step. */
describe('Extism plugin operations', () => {
  let api: Awaited<ReturnType<typeof startApi>>;
  let wasm: Uint8Array;
  beforeAll(async () => {
    wasm = buildAssemblyScriptPlugin(join(__dirname, 'fixtures', 'extism-plugin', 'http-operation.as'));
    api = await startApi((req, res) => res.end(JSON.stringify({ customers: [{ id: 1 }], path: req.url })));
  }, 120_000);
  afterAll(() => api?.close());

  const http = (): HostHttp =>
    testHostHttp(api.port, {
      credentials: {
        provider: { credentialsFor: async () => ({ headers: { 'x-api-key': SECRET } }) },
        schemes: ['key'],
        origin: `http://api.example:${api.port}`,
      },
    });

  it('runs the plugin operation through the guarded host HTTP, the credential attached by the host', async () => {
    const result = (await runPluginOperation({
      wasm,
      operation: 'run',
      input: { method: 'GET', url: `http://api.example:${api.port}/customers` },
      http: http(),
    })) as { plugin: string; response: { status: number; body: string } };
    expect(result.plugin).toBe('assemblyscript');
    expect(result.response.status).toBe(200);
    expect(JSON.parse(result.response.body)).toEqual({ customers: [{ id: 1 }], path: '/customers' });
    expect(api.seen.at(-1)!.headers['x-api-key']).toBe(SECRET);
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('holds the plugin to the allowlist and the deadline, and refuses WASI imports', async () => {
    const refused = (await runPluginOperation({
      wasm,
      operation: 'run',
      input: { method: 'GET', url: 'http://169.254.169.254/latest/meta-data/' },
      http: http(),
    })) as { response: { error: string } };
    expect(refused.response.error).toMatch(/^HTTP_REFUSED: 169.254.169.254 is not on the egress allowlist/);
    expect(
      await outcome(runPluginOperation({ wasm, operation: 'spin', input: {}, http: http() }, { timeoutMs: 300 })),
    ).toBe('SANDBOX_TIMEOUT: plugin operation spin ran longer than 300 ms; it was stopped');
    expect(await outcome(runPluginOperation({ wasm, operation: 'nope', input: {}, http: http() }))).toMatch(
      /^SANDBOX_UNKNOWN_OPERATION/,
    );
    // A minimal module importing WASI's fd_write.
    const name = (s: string) => [s.length, ...Buffer.from(s)];
    const imports = [1, ...name('wasi_snapshot_preview1'), ...name('fd_write'), 0, 0];
    const wasi = new Uint8Array([
      ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
      ...[0x01, 0x09, 0x01, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f],
      ...[0x02, imports.length, ...imports],
    ]);
    expect(await outcome(runPluginOperation({ wasm: wasi, operation: 'run', input: {}, http: http() }))).toMatch(
      /^SANDBOX_BAD_BUNDLE: the plugin imports wasi_snapshot_preview1.fd_write; .*no WASI/,
    );
    // The host keeps serving after the stopped plugin.
    const again = (await runPluginOperation({
      wasm,
      operation: 'run',
      input: { method: 'GET', url: `http://api.example:${api.port}/again` },
      http: http(),
    })) as { response: { status: number } };
    expect(again.response.status).toBe(200);
  });
});
