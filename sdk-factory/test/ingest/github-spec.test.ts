import { readFileSync } from 'node:fs';
import { HTTP_METHODS, OperationManifest } from '../../src/manifest';
import { ingestSpec, type IngestResult } from '../../src/ingest';

/**
 * GitHub's REST description (@octokit/openapi, about 13 MB, 1,100+ operations): the very large
 * real document. Time and peak RSS are printed, not asserted (the bench measures them on a quiet
 * process: `./vsc bench sdk-factory`).
 */
/** This test is about completeness, not time: a CI machine running every suite at once must not trip the 30 s default. */
const GENEROUS = { timeoutMs: 300_000 };
const file = require.resolve('@octokit/openapi/generated/api.github.com.json');

describe('ingestSpec on GitHub REST description', () => {
  let text: string;
  let raw: { paths: Record<string, Record<string, { operationId?: string }>> };
  let result: IngestResult;

  beforeAll(async () => {
    text = readFileSync(file, 'utf8');
    raw = JSON.parse(text);
    const t0 = performance.now();
    result = await ingestSpec({ text, contentType: 'application/json' }, GENEROUS);
    const ms = Math.round(performance.now() - t0);
    process.stdout.write(
      `github ingest: ${Math.round(text.length / 1e6)} MB, ${result.manifest.operations.length} operations in ${ms} ms; jest worker peak RSS (all the tests it ran) ${Math.round(process.resourceUsage().maxRSS / 1024)} MB\n`,
    );
  }, 320_000);

  it('has every operation of the document, keyed by its operationId', () => {
    const expected = Object.entries(raw.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((m) => (HTTP_METHODS as readonly string[]).includes(m))
        .map((m) => `${m.toUpperCase()} ${path} ${item[m]!.operationId}`),
    );
    expect(expected.length).toBeGreaterThan(1100);
    const got = result.manifest.operations.map((o) => `${o.method.toUpperCase()} ${o.path} ${o.key}`);
    expect(got.sort()).toEqual(expected.sort());
  });

  it('is a valid manifest whose every reference names one of its schemas', () => {
    const { manifest } = result;
    expect(OperationManifest.safeParse(manifest).success).toBe(true);
    const names = new Set([...JSON.stringify(manifest).matchAll(/"\$ref":"#\/schemas\/([^"]+)"/g)].map((m) => m[1]!));
    for (const name of names) expect(Object.prototype.hasOwnProperty.call(manifest.schemas, name)).toBe(true);
    expect(Object.keys(manifest.schemas).length).toBeGreaterThan(800);
  });

  it('merges path parameters, flags secrets, and recognises Link-header paging', () => {
    const ops = new Map(result.manifest.operations.map((o) => [o.key, o]));
    const get = ops.get('repos/get')!;
    expect(get).toMatchObject({ method: 'get', path: '/repos/{owner}/{repo}' });
    expect(get.parameters.map((p) => `${p.in}:${p.name}:${p.required}`)).toEqual(['path:owner:true', 'path:repo:true']);
    expect(get.responses.find((r) => r.status === '200')!.content[0]!.schema).toEqual({
      $ref: '#/schemas/full-repository',
    });
    expect(ops.get('repos/list-for-org')!.pagination).toEqual({ kind: 'link-header' });
    expect(ops.get('repos/get')!.pagination).toBeUndefined();
    expect(result.manifest.securitySchemes).toEqual({});
    expect(String(result.document.openapi)).toMatch(/^3\.0\./);
  });

  it('is deterministic: the same text gives the same manifest', async () => {
    const again = await ingestSpec({ text }, GENEROUS);
    expect(again.manifest.specHash).toBe(result.manifest.specHash);
    expect(JSON.stringify(again.manifest)).toBe(JSON.stringify(result.manifest));
  }, 320_000);
});
