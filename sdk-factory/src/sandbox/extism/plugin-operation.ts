import createPlugin, { type CallContext, type Plugin } from '@extism/extism';
import { SandboxError, SandboxErrorCode } from '../errors';
import { SandboxHttpRequest, type HostHttp } from '../egress/host-http';
import { parseSandboxLimits, type SandboxLimitsInput } from '../limits';

/** The only imports a plugin may have: the Extism kernel, and the host's HTTP function. No WASI. */
const KERNEL = 'extism:host/env';
const USER = 'extism:host/user';
const HOST_FUNCTIONS = new Set(['http_request']);

/** Node's WebAssembly global, typed by what is used here (the workspace's lib has no DOM types). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  Module: {
    imports(module: object): { module: string; name: string; kind: string }[];
    exports(module: object): { name: string; kind: string }[];
  };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface PluginOperationRequest {
  /** The plugin's WebAssembly module. */
  wasm: Uint8Array;
  /** The exported function that is the operation. */
  operation: string;
  /** JSON in (as the plugin's input text). */
  input: unknown;
  /** The same guarded host HTTP as the QuickJS sandbox's (allowlist, pinning, caps, credentials). */
  http: HostHttp;
}

/**
 * One operation packaged as an Extism plugin, under the sandbox's limits: the module may import the
 * Extism kernel and `extism:host/user` `http_request` only (no WASI, so no files, clock or network of
 * its own); the plugin runs in Extism's worker thread, so the deadline terminates it even inside a
 * loop that never yields; HTTP is the host's guarded function (request JSON in, response JSON out, or
 * `{"error": message}`), counted against maxHttpRequests. Result: the plugin's output as JSON.
 */
export async function runPluginOperation(request: PluginOperationRequest, limitsInput: SandboxLimitsInput = {}) {
  const limits = parseSandboxLimits(limitsInput);
  let module: object;
  try {
    module = await wasmApi.compile(request.wasm);
  } catch (err) {
    throw new SandboxError(
      SandboxErrorCode.badBundle,
      `the plugin is not a WebAssembly module: ${(err as Error).message}`,
    );
  }
  for (const imported of wasmApi.Module.imports(module)) {
    const allowed = imported.module === KERNEL || (imported.module === USER && HOST_FUNCTIONS.has(imported.name));
    if (!allowed)
      throw new SandboxError(
        SandboxErrorCode.badBundle,
        `the plugin imports ${imported.module}.${imported.name}; plugins may import the Extism kernel and ${USER}.http_request only (no WASI)`,
      );
  }
  if (!wasmApi.Module.exports(module).some((e) => e.kind === 'function' && e.name === request.operation))
    throw new SandboxError(
      SandboxErrorCode.unknownOperation,
      `the plugin exports no function ${JSON.stringify(request.operation)}`,
    );

  const abort = new AbortController();
  let requests = 0;
  let failure: SandboxError | undefined;
  const httpRequest = async (cx: CallContext, offset: bigint): Promise<bigint> => {
    const answer = (body: unknown) => cx.store(JSON.stringify(body));
    if (++requests > limits.maxHttpRequests) {
      failure ??= new SandboxError(
        SandboxErrorCode.httpLimit,
        `the operation made more than ${limits.maxHttpRequests} HTTP requests`,
      );
      return answer({ error: failure.message });
    }
    try {
      const parsed = SandboxHttpRequest.safeParse(JSON.parse(cx.read(offset)?.text() ?? 'null'));
      if (!parsed.success) return answer({ error: `bad HTTP request: ${parsed.error.issues[0]!.message}` });
      return answer(await request.http(parsed.data, abort.signal));
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      return answer({ error: `${typeof e.code === 'string' ? `${e.code}: ` : ''}${String(e.message)}` });
    }
  };

  let plugin: Plugin | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    plugin = await createPlugin(
      { wasm: [{ module: module as never }] },
      { useWasi: false, runInWorker: true, allowedHosts: [], functions: { [USER]: { http_request: httpRequest } } },
    );
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new SandboxError(
              SandboxErrorCode.timeout,
              `plugin operation ${request.operation} ran longer than ${limits.timeoutMs} ms; it was stopped`,
            ),
          ),
        limits.timeoutMs,
      );
    });
    let output: Awaited<ReturnType<Plugin['call']>>;
    try {
      output = await Promise.race([plugin.call(request.operation, JSON.stringify(request.input ?? null)), deadline]);
    } catch (err) {
      if (err instanceof SandboxError) throw err;
      throw new SandboxError(
        SandboxErrorCode.operationFailed,
        `plugin operation ${request.operation}: ${(err as Error).message}`,
      );
    }
    if (failure) throw failure;
    const text = output?.text() ?? 'null';
    if (text.length > limits.maxResultChars)
      throw new SandboxError(
        SandboxErrorCode.badResult,
        `plugin operation ${request.operation} returned ${text.length} characters, more than the limit of ${limits.maxResultChars}`,
      );
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new SandboxError(
        SandboxErrorCode.badResult,
        `plugin operation ${request.operation} returned text that is not JSON`,
      );
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
    // Terminates the worker: a plugin still running (past its deadline) stops here.
    await plugin?.close().catch(() => undefined);
  }
}
