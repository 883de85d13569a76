import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDataDir } from '@vansales/test-kit';
import { buildApi } from '../../src/build';
import { IngestError, IngestErrorCode, ingestSpec, ProblemCode } from '../../src/ingest';

const shared = (file: string) =>
  readFileSync(join(sharedDataDir() ?? '/nonexistent: set VSC_SHARED_DATA', 'openapi', file), 'utf8');
const github = readFileSync(require.resolve('@octokit/openapi/generated/api.github.com.json'), 'utf8');

async function refusal(promise: Promise<unknown>): Promise<IngestError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof IngestError) return err;
    throw err;
  }
  throw new Error('the build was not refused');
}

/** Counts the host's timer ticks while `work` runs: a build that held the event loop would let none through. */
async function ticksDuring<T>(work: Promise<T>): Promise<{ result: T; ticks: number }> {
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 10);
  try {
    const result = await work;
    return { result, ticks };
  } finally {
    clearInterval(ticker);
  }
}

describe('buildApi: a specification to manifest, SDK and bundles in a worker thread', () => {
  it('builds what ingestSpec and the generator make, every operation bundled, and the SDK compiles strictly', async () => {
    const text = shared('v3.0-petstore-expanded.yaml');
    const built = await buildApi({ text, contentType: 'application/yaml' }, { typeCheck: true });
    const direct = await ingestSpec({ text, contentType: 'application/yaml' });
    expect(built.manifest).toEqual(direct.manifest);
    expect(built.document).toEqual(direct.document);
    expect(built.bundles.map((b) => b.key)).toEqual(direct.manifest.operations.map((o) => o.key));
    expect(Object.keys(built.files)).toContain('index.ts');
    expect(built.typeCheck).toEqual({ errors: [] });
  });

  it("builds GitHub's 13 MB description with every operation bundled while the host's timers keep running", async () => {
    const { result, ticks } = await ticksDuring(buildApi(github));
    expect(result.manifest.operations).toHaveLength(1223);
    expect(result.bundles).toHaveLength(1223);
    expect(new Set(result.bundles.map((b) => b.key)).size).toBe(1223);
    expect(ticks).toBeGreaterThan(0);
  }, 300_000);

  it('refuses an invalid specification with every problem named, as ingestSpec does', async () => {
    const refused = await refusal(
      buildApi(
        JSON.stringify({ openapi: '3.0.3', info: { title: 't', version: '1' }, paths: { '/a/{id}': { get: {} } } }),
      ),
    );
    expect(refused.code).toBe(IngestErrorCode.invalid);
    expect(refused.problems.length).toBeGreaterThan(0);
    expect(refused.problems.every((p) => Object.values(ProblemCode).includes(p.code))).toBe(true);
    expect(refused.problems.some((p) => p.pointer.startsWith('/paths/~1a~1{id}'))).toBe(true);
  });

  it('refuses a YAML alias bomb at ingestion', async () => {
    const lines = ['openapi: 3.0.3', 'info: {title: bomb, version: "1"}', 'paths: {}', 'x-a: &a ["lol","lol","lol"]'];
    const names = 'abcdefghij';
    for (let i = 1; i < names.length; i++)
      lines.push(
        `x-${names[i]}: &${names[i]} [${Array(9)
          .fill(`*${names[i - 1]}`)
          .join(',')}]`,
      );
    const refused = await refusal(buildApi(lines.join('\n')));
    expect(refused.code).toBe(IngestErrorCode.limitExceeded);
    expect(refused.limit).toBe('maxYamlAliases');
  });

  it("refuses a specification past the thread's memory cap or deadline, and the host carries on", async () => {
    const memory = await refusal(buildApi(github, { memoryMb: 64 }));
    expect(memory.code).toBe(IngestErrorCode.limitExceeded);
    expect(memory.limit).toBe('memoryMb');
    expect(memory.message).toMatch(/more than 64 MiB of memory/);
    const slow = await refusal(buildApi(github, { timeoutMs: 100 }));
    expect(slow.code).toBe(IngestErrorCode.limitExceeded);
    expect(slow.limit).toBe('timeoutMs');
    // The host is fine: the next build works.
    const next = await buildApi(shared('v3.0-petstore-expanded.yaml'));
    expect(next.manifest.operations.length).toBeGreaterThan(0);
  }, 300_000);
});
