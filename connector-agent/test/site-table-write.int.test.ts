import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { testServices } from '@vansales/test-kit';
import { createSiteTableWrite } from '../src/operations/site-http';
import { DEFAULT_SITE_POLICY, readSitePolicyFile } from '../src/policy/site-policy';
import { siteDatabases, type SiteDatabases } from '../src/site-database/site-database';

/*
 * `http.write-table` (pattern 3.1.2) on the real Sakila MariaDB and a local HTTP server as the site
 * API: an attempt that fails half way is resumed by the next one after the records the API
 * accepted, none sent twice, none left out; the spool folder is gone after either attempt.
 */

const services = testServices();
let databases: SiteDatabases;
let server: Server;
let baseUrl: string;
/** Request numbers (1-based, over the whole test) the API refuses with 400. */
const refuse = new Set<number>();
const accepted: number[] = [];
let requests = 0;

beforeAll(async () => {
  databases = siteDatabases({
    sakila: { dialect: 'mysql', ...services.mariadb, database: 'sakila', statementTimeoutMs: 60_000 },
  });
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const n = ++requests;
      if (refuse.has(n)) {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"refused"}');
        return;
      }
      const batch = JSON.parse(Buffer.concat(parts).toString('utf8')) as { actor_id: number }[];
      accepted.push(...batch.map((r) => r.actor_id));
      res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  await databases?.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const spools = () => readdirSync(tmpdir()).filter((n) => n.startsWith('vsc-table-to-api-')).length;

it('resumes after the records the API accepted: every row sent once, the spool removed', async () => {
  const policyFile = join(mkdtempSync(join(tmpdir(), 'vsc-tw-')), 'policy.json');
  writeFileSync(policyFile, JSON.stringify({ apis: { erp: { baseUrl, methods: ['POST'], paths: ['/actors'] } } }));
  const operation = createSiteTableWrite(
    { database: (name) => databases.get(name), policy: () => DEFAULT_SITE_POLICY },
    {
      policyFile: () => readSitePolicyFile(policyFile).file,
      secret: () => undefined,
      retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 },
    },
  );
  const input = {
    source: { database: 'sakila', table: { name: 'actor' } },
    api: 'erp',
    path: '/actors',
    batchSize: 50,
    chunkRows: 70,
  };
  const spoolsBefore = spools();
  const progress: unknown[] = [];
  const ctx = (attempt: number, resumeFrom?: unknown) => ({
    signal: new AbortController().signal,
    progress: (d: unknown) => void progress.push(d),
    attempt,
    resumeFrom,
  });
  refuse.add(3);
  await expect(operation(input, ctx(1))).rejects.toThrow(/400/);
  expect(accepted).toHaveLength(100);
  expect(spools()).toBe(spoolsBefore);
  const last = progress.at(-1) as { recordsDone: number };
  expect(last).toMatchObject({ recordsDone: 100, requests: 2 });

  const result = await operation(input, ctx(2, last));
  expect(result).toMatchObject({ rowCount: 200, records: 200, requests: 4 });
  const conn = await createConnection({ ...services.mariadb, database: 'sakila' });
  const [rows] = await conn.query('SELECT actor_id FROM actor ORDER BY actor_id');
  await conn.end();
  expect(accepted).toEqual((rows as { actor_id: number }[]).map((r) => r.actor_id));
  expect(spools()).toBe(spoolsBefore);
  // Only the refused request was sent again, not the two the API had accepted.
  expect(requests).toBe(5);
});
