import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BufferClient } from '../src/buffer/buffer-client';
import { createSiteHttpRead } from '../src/operations/site-http';
import { readSitePolicyFile } from '../src/policy/site-policy';

// A site step that names an API operation must run the operation or not run: before the agent knew
// the field, zod dropped it and the step went out as a plain request, the operation's checks skipped.
describe('http.read with an API operation on an agent', () => {
  it('is refused without an artifact client or without the hashes, before anything reaches the API', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.end('[]');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const policyFile = join(mkdtempSync(join(tmpdir(), 'vsc-site-op-')), 'policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({
        apis: { erp: { baseUrl: `http://127.0.0.1:${port}`, methods: ['GET'], paths: ['/customers'] } },
      }),
    );
    const objectId = 'obj00001';
    const task = (operation: Record<string, unknown>) => ({
      api: 'erp',
      path: '/customers',
      objectId,
      operation: { apiId: 'erp', version: 1, key: 'listCustomers', ...operation },
      buffer: { objectId, token: 't'.repeat(16), scope: 'write', expiresAt: '2999-01-01T00:00:00Z' },
    });
    const ctx = { signal: new AbortController().signal, progress: () => undefined, attempt: 1 };
    const outcome = (handler: ReturnType<typeof createSiteHttpRead>, input: unknown) =>
      handler(input, ctx).then(
        () => 'ran',
        (e: Error) => e.message,
      );
    const buffer = {} as BufferClient; // never reached: the refusal comes first
    const policy = () => readSitePolicyFile(policyFile).file;
    const hashes = { manifestSha256: 'a'.repeat(64), bundleSha256: 'b'.repeat(64) };
    try {
      expect(
        await outcome(createSiteHttpRead({ policyFile: policy, secret: () => undefined }, buffer), task(hashes)),
      ).toBe('operation listCustomers of API erp cannot run on this agent: it has no artifact client');
      const artifacts = { fetch: async () => Buffer.from('') };
      expect(
        await outcome(createSiteHttpRead({ policyFile: policy, secret: () => undefined, artifacts }, buffer), task({})),
      ).toBe("operation listCustomers came without its artifacts' hashes (the gateway names them)");
      // Bytes that are not what the hash names are never run.
      expect(
        await outcome(
          createSiteHttpRead({ policyFile: policy, secret: () => undefined, artifacts }, buffer),
          task(hashes),
        ),
      ).toBe('the artifacts of erp v1 do not match their hashes');
      expect(seen).toEqual([]);
    } finally {
      server.close();
    }
  });
});
