import { runTransform, type TransformRecord } from '@vansales/transforms';
import { batchesOf, collect } from './support';

const run = (source: string, records: TransformRecord[], limits = {}) =>
  collect(runTransform({ op: 'script', source }, { left: batchesOf(records, 100) }, { limits }));

describe('the script sandbox (QuickJS in WebAssembly)', () => {
  it('transforms records in batches: one record, several, or none each', async () => {
    const out = await run(
      `function transform(r) { if (r.n % 3 === 0) return null; if (r.n % 3 === 1) return { n: r.n * 10 }; return [{ n: r.n }, { n: -r.n }]; }`,
      Array.from({ length: 250 }, (_, n) => ({ n })),
    );
    // n % 3: 0 gives none (84 of 250), 1 gives one (83), 2 gives two (83).
    expect(out.length).toBe(83 + 83 * 2);
    expect(out.slice(0, 3)).toEqual([{ n: 10 }, { n: 2 }, { n: -2 }]);
  });

  it('stops an infinite loop at the time limit, and the host goes on', async () => {
    const started = Date.now();
    await expect(
      run('function transform(r) { for (;;) {} }', [{ a: 1 }], { scriptTimeoutMs: 200 }),
    ).rejects.toMatchObject({
      code: 'SCRIPT_TIMEOUT',
    });
    // Generous bound: proves it was stopped, not that it was fast.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(await run('function transform(r) { return r; }', [{ a: 2 }])).toEqual([{ a: 2 }]);
  });

  it('stops a memory bomb at the memory limit, and the host goes on', async () => {
    await expect(
      run('function transform(r) { const a = []; for (;;) a.push("x".repeat(1024) + a.length); }', [{ a: 1 }], {
        scriptMemoryBytes: 2 * 1024 * 1024,
        scriptTimeoutMs: 60_000,
      }),
    ).rejects.toMatchObject({ code: 'SCRIPT_MEMORY' });
    await expect(run('function transform(r) { return f(); } function f() { return f(); }', [{ a: 1 }])).rejects.toThrow(
      /stack limit/,
    );
    expect(await run('function transform(r) { return { b: r.a + 1 }; }', [{ a: 2 }])).toEqual([{ b: 3 }]);
  });

  it('has no way out: require, process, fetch, timers and host globals are absent', async () => {
    const [probe] = await run(
      `function transform() {
        return {
          require: typeof require, process: typeof process, fetch: typeof fetch, setTimeout: typeof setTimeout,
          module: typeof module, Buffer: typeof Buffer, importScripts: typeof importScripts, std: typeof std, os: typeof os,
          globals: Object.getOwnPropertyNames(globalThis).filter((n) => !/^[A-Z]/.test(n)).sort(),
          ctor: (function () { try { return typeof (function(){}).constructor('return process')(); } catch (e) { return 'threw'; } })(),
        };
      }`,
      [{}],
    );
    expect(probe).toMatchObject({
      require: 'undefined',
      process: 'undefined',
      fetch: 'undefined',
      setTimeout: 'undefined',
      module: 'undefined',
      Buffer: 'undefined',
      importScripts: 'undefined',
      std: 'undefined',
      os: 'undefined',
      ctor: expect.stringMatching(/^(threw|undefined)$/),
    });
    // Only the language's own lower-case globals (functions like parseInt, and globalThis itself).
    const allowed = [
      'decodeURI',
      'decodeURIComponent',
      'encodeURI',
      'encodeURIComponent',
      'escape',
      'eval',
      'globalThis',
      'isFinite',
      'isNaN',
      'parseFloat',
      'parseInt',
      'unescape',
      'queueMicrotask',
      'undefined',
    ];
    expect((probe!.globals as string[]).filter((g) => !allowed.includes(g))).toEqual([]);
  });

  it('refuses a script without transform(record), and one that returns something else than records', async () => {
    await expect(run('const x = 1;', [{}])).rejects.toMatchObject({ code: 'BAD_EXPRESSION' });
    await expect(run('function transform() { return 5; }', [{}])).rejects.toMatchObject({ code: 'SCRIPT_FAILED' });
    await expect(run('function transform() { throw new Error("boom"); }', [{}])).rejects.toThrow(/boom/);
  });
});
