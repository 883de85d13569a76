import { createSandbox, SandboxErrorCode, type HostHttp } from '../../src/sandbox';
import { outcome, startApi, testHostHttp } from './support';

/**
 * Published escapes of integration platforms' code sandboxes, replayed against the operation
 * sandbox: n8n's expression escapes (constructor chains from a passed object to the host Function,
 * CVE-2025-68613 and its kin), vm2's (Error.prepareStackTrace and host exception objects,
 * CVE-2022-36067, CVE-2023-29017, CVE-2023-30547, CVE-2023-37466 with Promise and Proxy), prototype
 * pollution of host objects through input and results, Function/eval tricks, and resource exhaustion
 * (loops, memory and string bombs, recursion, promise and request floods). Each attempt that finds
 * a host object returns ESCAPED; otherwise it fails. Zero escapes, each a SandboxError, and the host
 * keeps serving (its canary untouched, its prototypes clean, the next call and its API still answer).
 */
const ESCAPED = 'ESCAPED';
/** Tries a value for host-ness: process, require, Buffer or a host global reached from it. */
const PROBE = `
  function hostish(v) {
    try {
      if (v && (v.process || v.require || v.Buffer || v.__vscHostCanary || (v.versions && v.versions.node))) return true;
      if (v && typeof v.cwd === 'function') return true;
    } catch (e) {}
    return false;
  }`;

const corpus: [name: string, body: string, expected: RegExp][] = [
  // Constructor chains to the host Function (n8n expression escapes, vm2's classic).
  [
    'constructor.constructor from the input',
    `exports.op = (input) => { const f = input.constructor.constructor('return this')(); if (hostish(f)) return '${ESCAPED}'; return process.mainModule.require('child_process').execSync('id').toString(); };`,
    /^SANDBOX_OPERATION_FAILED: ReferenceError: 'process' is not defined/,
  ],
  [
    'constructor.constructor from the host http function',
    `exports.op = (input, ctx) => { const g = ctx.http.constructor.constructor('return globalThis')(); if (hostish(g)) return '${ESCAPED}'; return g.process.env; };`,
    /^SANDBOX_OPERATION_FAILED: TypeError: cannot read property 'env' of undefined/,
  ],
  [
    "n8n's this.constructor.constructor in an arrow",
    `exports.op = function () { const f = (() => this).constructor.constructor; const r = f('return typeof process')(); if (r !== 'undefined') return '${ESCAPED}'; throw new Error('no process: ' + r); };`,
    /^SANDBOX_OPERATION_FAILED: Error: no process: undefined/,
  ],
  [
    'Function and eval, direct and indirect',
    `exports.op = () => { for (const src of ['process', 'require', 'Buffer', 'globalThis.process', 'this.process']) {
        let v; try { v = (0, eval)(src); } catch (e) { continue; } if (v !== undefined) return '${ESCAPED}:' + src; }
      if (hostish(Function('return this')()) || hostish(eval('this'))) return '${ESCAPED}';
      throw new Error('eval reached nothing'); };`,
    /^SANDBOX_OPERATION_FAILED: Error: eval reached nothing/,
  ],
  [
    'a dynamic import of a host module',
    `exports.op = async () => { const fs = await import('fs'); return fs.readFileSync('/etc/passwd', 'utf8'); };`,
    /^SANDBOX_OPERATION_FAILED: /,
  ],
  [
    'the globals a host would add',
    `exports.op = () => { const names = Object.getOwnPropertyNames(globalThis);
      const host = names.filter((n) => ['process', 'require', 'module', 'Buffer', 'fetch', 'setTimeout', 'setInterval', 'queueMicrotask', 'WebAssembly', 'XMLHttpRequest', 'importScripts', 'os', 'std'].includes(n));
      if (host.length) return '${ESCAPED}:' + host.join(','); throw new Error('only built-ins'); };`,
    /^SANDBOX_OPERATION_FAILED: Error: only built-ins/,
  ],
  // vm2: Error.prepareStackTrace and call-site objects handing out host frames.
  [
    'Error.prepareStackTrace to a host frame (vm2 CVE-2022-36067, CVE-2023-29017)',
    `exports.op = () => { let hit;
      Error.prepareStackTrace = (e, frames) => { try { hit = frames[0].getThis().constructor.constructor('return process')(); } catch (x) {} return 'x'; };
      try { null.f(); } catch (e) { e.stack; }
      try { new Error('t').stack; } catch (e) {}
      if (hit) return '${ESCAPED}'; throw new Error('no host frame'); };`,
    /^SANDBOX_OPERATION_FAILED: Error: no host frame/,
  ],
  [
    'a thrown Proxy whose traps run when the host reads the error (vm2 CVE-2023-30547)',
    `exports.op = () => { throw new Proxy({}, { get(t, k) { if (k === 'message') { const p = (function () { return this; })(); if (hostish(p)) return '${ESCAPED}'; } return 'trap ' + String(k); },
      getPrototypeOf() { for (;;) {} } }); };`,
    /^SANDBOX_(OPERATION_FAILED|TIMEOUT): /,
  ],
  [
    'an error whose message getter never returns',
    `exports.op = () => { const e = new Error('x'); Object.defineProperty(e, 'message', { get() { for (;;) {} } }); throw e; };`,
    /^SANDBOX_TIMEOUT: /,
  ],
  [
    'an async stack: rejecting with a Symbol name and a host-looking stack (vm2 CVE-2023-37466 style)',
    `exports.op = async () => { await null; const e = new Error('async'); e.name = Symbol('x'); e.stack = { toString() { return hostish(this) ? '${ESCAPED}' : 's'; } }; throw e; };`,
    /^SANDBOX_OPERATION_FAILED: /,
  ],
  [
    'Promise.prototype.then replaced to intercept the runner',
    `exports.op = () => { const then = Promise.prototype.then; Promise.prototype.then = function (a, b) { try { if (hostish(a) || hostish(b)) throw '${ESCAPED}'; } catch (x) { throw x; } return then.call(this, a, b); };
      JSON.parse = () => ({ hijacked: true }); JSON.stringify = () => '"${ESCAPED}"'; throw new Error('built-ins replaced'); };`,
    /^SANDBOX_OPERATION_FAILED: Error: built-ins replaced/,
  ],
  [
    'a Proxy around the context object',
    `exports.op = (input, ctx) => { const p = new Proxy(ctx, { get(t, k) { return t[k]; } }); const h = Object.getPrototypeOf(p.http); if (hostish(h.constructor('return this')())) return '${ESCAPED}';
      return p.http(new Proxy({}, { get() { for (;;) {} } })); };`,
    /^SANDBOX_TIMEOUT: /,
  ],
  [
    'the raw host function called with a non-string',
    `exports.op = async (input, ctx) => { const r = await ctx.http({ method: 'GET', url: { toString() { return 'http://169.254.169.254/' } } }); return r; };`,
    /^SANDBOX_OPERATION_FAILED: HttpError: bad HTTP request: request url/,
  ],
  [
    'the cloud metadata service by IP literal',
    `exports.op = (input, ctx) => ctx.http({ method: 'GET', url: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' });`,
    /^SANDBOX_OPERATION_FAILED: HttpError: HTTP_REFUSED: 169.254.169.254 is not on the egress allowlist/,
  ],
  // Prototype pollution of host objects through what crosses the boundary.
  [
    'prototype pollution through the input and Object.prototype',
    `exports.op = (input) => { input.__proto__.polluted = 'yes'; Object.prototype.polluted = 'yes'; Array.prototype.polluted = 'yes';
      input.constructor.prototype.admin = true; throw new Error('polluted my own realm'); };`,
    /^SANDBOX_OPERATION_FAILED: Error: polluted my own realm/,
  ],
  // Resource exhaustion.
  ['an infinite loop', `exports.op = () => { for (;;) {} };`, /^SANDBOX_TIMEOUT: the operation ran longer than/],
  [
    'an infinite loop that catches the interrupt',
    `exports.op = () => { for (;;) { try { for (;;) {} } catch (e) {} finally { continue; } } };`,
    /^SANDBOX_TIMEOUT: /,
  ],
  [
    'an infinite loop after an await',
    `exports.op = async (input, ctx) => { await ctx.http({ method: 'GET', url: input.base + '/ok' }); for (;;) {} };`,
    /^SANDBOX_TIMEOUT: /,
  ],
  [
    'a memory bomb',
    `exports.op = () => { const keep = []; for (;;) keep.push(new ArrayBuffer(1 << 20), [1, 2, 3, 4]); };`,
    // QuickJS reaches its memory limit here only after seconds (measured: 10 s on the calling thread
    // with an 8 MiB heap); the worker thread is terminated at the deadline first.
    /^SANDBOX_(RESOURCES: the operation went past the sandbox's memory limit|TIMEOUT: the operation ran longer than 1000 ms)/,
  ],
  [
    'a string doubling bomb',
    `exports.op = () => { let s = 'x'; for (;;) s += s; };`,
    /^SANDBOX_(RESOURCES|OPERATION_FAILED): .*(memory limit|string too long|invalid string length)/i,
  ],
  ['a huge string by repeat', `exports.op = () => 'x'.repeat(2 ** 29);`, /^SANDBOX_(RESOURCES|OPERATION_FAILED): /],
  [
    'deep recursion',
    `exports.op = () => { const f = (n) => f(n + 1) + 1; return f(0); };`,
    /^SANDBOX_RESOURCES: .*stack/,
  ],
  [
    'recursion that catches its stack overflow',
    `exports.op = () => { const f = () => { try { f(); } catch (e) { f(); } }; f(); };`,
    /^SANDBOX_(RESOURCES|TIMEOUT): /,
  ],
  [
    'a promise flood',
    `exports.op = () => { for (;;) Promise.resolve().then(() => {}); };`,
    /^SANDBOX_(RESOURCES|TIMEOUT): /,
  ],
  [
    'an endless microtask chain',
    `exports.op = () => { const loop = () => Promise.resolve().then(loop); loop(); return new Promise(() => {}); };`,
    /^SANDBOX_(RESOURCES|TIMEOUT): /,
  ],
  [
    'a promise that never settles',
    `exports.op = () => new Promise(() => {});`,
    /^SANDBOX_TIMEOUT: operation op ran longer/,
  ],
  [
    'an HTTP request flood',
    `exports.op = (input, ctx) => { const all = []; for (let i = 0; i < 100000; i++) all.push(ctx.http({ method: 'GET', url: input.base + '/ok' })); return Promise.all(all); };`,
    /^SANDBOX_HTTP_LIMIT: the operation made more than 20 HTTP requests/,
  ],
  [
    'a result larger than the limit',
    `exports.op = () => 'y'.repeat(300000);`,
    /^SANDBOX_BAD_RESULT: operation op returned 300002 characters of JSON, more than the limit of 262144/,
  ],
  ['a result whose toJSON never returns', `exports.op = () => ({ toJSON() { for (;;) {} } });`, /^SANDBOX_TIMEOUT: /],
];

describe('the sandbox escape corpus', () => {
  let api: Awaited<ReturnType<typeof startApi>>;
  const sandbox = createSandbox({
    timeoutMs: 1000,
    memoryBytes: 8 * 1024 * 1024,
    maxHttpRequests: 20,
    maxResultChars: 256 * 1024,
  });
  const host = globalThis as unknown as Record<string, unknown>;
  beforeAll(async () => {
    api = await startApi((req, res) => res.end(JSON.stringify({ ok: true })));
    host.__vscHostCanary = 'untouched';
    // The sandbox's worker thread started and its HTTP path run once, so no attempt pays for a cold start.
    await sandbox.runOperation({
      bundle: `exports.op = async (input, ctx) => (await ctx.http({ method: 'GET', url: input.base + '/ok' })).status;`,
      operation: 'op',
      input: { base: `http://api.example:${api.port}` },
      http: testHostHttp(api.port),
    });
  });
  afterAll(async () => {
    delete host.__vscHostCanary;
    await api.close();
    await sandbox.close();
  });
  const http = (): HostHttp => testHostHttp(api.port);

  it.each(corpus)('%s: no escape, a clear step failure', async (_name, body, expected) => {
    const input = JSON.parse(
      `{"base": "http://api.example:${api.port}", "__proto__": {"polluted": "input"}}`,
    ) as object;
    const result = await outcome(
      sandbox.runOperation({ bundle: `${PROBE}\n${body}`, operation: 'op', input, http: http() }),
    );
    expect(result).not.toContain(ESCAPED);
    expect(result).toMatch(expected);
    expect(Object.values(SandboxErrorCode).some((code) => result.startsWith(`${code}: `))).toBe(true);
    // The host is intact and keeps serving.
    expect(host.__vscHostCanary).toBe('untouched');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.parse('{"a":1}')).toEqual({ a: 1 });
    const next = await sandbox.runOperation({
      bundle: `exports.op = async (input, ctx) => JSON.parse((await ctx.http({ method: 'GET', url: input.base + '/ok' })).body);`,
      operation: 'op',
      input: { base: `http://api.example:${api.port}` },
      http: http(),
    });
    expect(next).toEqual({ ok: true });
  });

  it('a result naming __proto__ stays an own property on the host, polluting nothing', async () => {
    const result = (await sandbox.runOperation({
      bundle: `exports.op = () => JSON.parse('{"__proto__": {"admin": true}, "constructor": {"prototype": {"admin": true}}}');`,
      operation: 'op',
      input: {},
      http: http(),
    })) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(result, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});

/**
 * Built-ins that run long between two of QuickJS's interrupt checks (it counts operations, not time):
 * on the calling thread each held the host for 10 s to over a minute (measured before the sandbox
 * moved to a worker thread). Now the host's timers keep running while they do, and each ends as a step
 * failure at the deadline, the worker thread terminated and replaced for the next call.
 */
const slowBuiltIns: [name: string, body: string][] = [
  [
    'a loop of long String.prototype.repeat',
    `exports.op = () => { let n = 0; for (;;) n += 'x'.repeat(1 << 21).length; };`,
  ],
  [
    'a loop of lastIndexOf over a long string',
    `exports.op = () => { const s = 'a'.repeat(1 << 22); for (;;) s.lastIndexOf('ab'); };`,
  ],
  [
    'a memory bomb of ArrayBuffers',
    `exports.op = () => { const keep = []; for (;;) keep.push(new ArrayBuffer(1 << 20), [1]); };`,
  ],
];

describe('slow built-ins in the sandbox', () => {
  const sandbox = createSandbox({ timeoutMs: 1000, memoryBytes: 8 * 1024 * 1024 });
  const noHttp: HostHttp = () => Promise.reject(new Error('no HTTP here'));
  beforeAll(async () => {
    await sandbox.runOperation({ bundle: 'exports.op = () => 1;', operation: 'op', input: {}, http: noHttp });
  });
  afterAll(() => sandbox.close());

  it.each(slowBuiltIns)('%s: a clear step failure, and the host keeps running meanwhile', async (_name, body) => {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    try {
      const result = await outcome(sandbox.runOperation({ bundle: body, operation: 'op', input: {}, http: noHttp }));
      expect(result).toMatch(/^SANDBOX_(TIMEOUT|RESOURCES): /);
      // On the calling thread no timer could run until the built-in returned: not one tick.
      expect(ticks).toBeGreaterThan(0);
    } finally {
      clearInterval(ticker);
    }
    // The next call gets a working sandbox (a new worker thread when the last one was terminated).
    expect(
      await sandbox.runOperation({
        bundle: 'exports.op = (i) => i.n + 1;',
        operation: 'op',
        input: { n: 1 },
        http: noHttp,
      }),
    ).toBe(2);
  });
});
