import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { createGateway, loadGatewayConfig, type Logger } from '@vansales/gateway';
import { seedRunsStatements } from '@vansales/test-kit';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, ensureChromium, serveConsoleBuild } from '@vansales/infra';
import { cliOption, emit, freePort, freshDatabase, percentile, platformEnv, round } from './support';

/*
 * The console's runs list with 10,000 runs (issue 12 §3): time to interactive in Chromium (from
 * navigation to the first page of 50 rows drawn with its "Older runs" button ready), the next page
 * on a click, and the REST route alone for the first page and for a page deep in the list (the
 * keyset cursor of run 9,950). The runs are rows seeded in the gateway's metadata store (ended
 * statuses: the list asks Temporal about none of them). Prints JSON lines; asserts nothing.
 *
 *   ./vsc bench runs-list [--runs 10000] [--rounds 5]
 */
const RUNS = Number(cliOption('runs') ?? 10_000);
const ROUNDS = Number(cliOption('rounds') ?? 5);
const TENANT = 'bench-runs';

/** The page's DOM, inside page.waitForFunction (this package compiles without the DOM's types). */
declare const document: {
  querySelectorAll(
    selector: string,
  ): ArrayLike<{ textContent: string | null; disabled?: boolean }> &
    Iterable<{ textContent: string | null; disabled?: boolean }>;
  querySelector(selector: string): { getAttribute(name: string): string | null } | null;
};

async function main() {
  const db = await freshDatabase('vsc_bench_runs');
  const env = platformEnv(randomBytes(4).toString('hex'), db.url);
  const log = (line: string) => process.stderr.write(`[runs-list] ${line}\n`);
  const executablePath = ensureChromium(log);
  const served = await serveConsoleBuild(log, await freePort());
  const silent = pino({ level: 'warn' }) as unknown as Logger;
  const gateway = await createGateway(loadGatewayConfig({ ...env, VSC_CONSOLE_ORIGINS: served.url }), silent);
  const gatewayUrl = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  const auth = { authorization: `Bearer ${env.VSC_ADMIN_TOKEN}` };
  try {
    await fetch(`${gatewayUrl}/v1/tenants`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id: TENANT, name: 'bench' }),
    });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const seedStart = performance.now();
    for (const s of seedRunsStatements({
      tenantId: TENANT,
      count: RUNS,
      definitions: ['orders', 'invoices', 'stock', 'prices'],
      connectors: ['site-1', 'site-2', 'site-3'],
    }))
      await client.query(s.text, s.values);
    await client.query('ANALYZE definition_runs; ANALYZE definition_run_connectors');
    emit({ bench: 'runs-list', phase: 'seed', runs: RUNS, ms: round(performance.now() - seedStart, 0) });
    const deep = await client.query<{ at: string; id: string }>(
      `SELECT created_at::text AS at, workflow_id AS id FROM definition_runs WHERE tenant_id = $1
       ORDER BY created_at DESC, workflow_id DESC OFFSET $2 LIMIT 1`,
      [TENANT, Math.max(0, RUNS - 50)],
    );
    await client.end();
    const deepCursor = Buffer.from(JSON.stringify([deep.rows[0]!.at, deep.rows[0]!.id])).toString('base64url');

    const timeRest = async (query: string) => {
      const samples: number[] = [];
      for (let i = 0; i < ROUNDS * 4; i++) {
        const t0 = performance.now();
        const res = await fetch(`${gatewayUrl}/v1/tenants/${TENANT}/runs?${query}`, { headers: auth });
        await res.json();
        samples.push(performance.now() - t0);
      }
      return samples.sort((a, b) => a - b);
    };
    for (const [name, query] of [
      ['first page', 'limit=50'],
      ['page at run 9,950', `limit=50&after=${deepCursor}`],
      ['first page, status=failed', 'limit=50&status=failed'],
      ['first page, connector=site-2', 'limit=50&connector=site-2'],
    ] as const) {
      const s = await timeRest(query);
      emit({
        bench: 'runs-list',
        phase: 'rest',
        query: name,
        p50_ms: round(percentile(s, 50)),
        p99_ms: round(percentile(s, 99)),
      });
    }

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(served.url);
    await page.getByLabel('Gateway URL').fill(gatewayUrl);
    await page.getByLabel('Token').fill(env.VSC_ADMIN_TOKEN);
    await page.getByLabel('Token').press('Enter');
    await page.waitForURL(/\/tenants$/);
    const tti: number[] = [];
    const next: number[] = [];
    for (let round_ = 0; round_ < ROUNDS; round_++) {
      await page.goto(`${served.url}/tenants/${TENANT}/runs`);
      // Interactive: the 50 rows drawn and the pager's button ready, timed from the navigation's start.
      await page.waitForFunction(
        () =>
          document.querySelectorAll('[data-testid="run-row"]').length === 50 &&
          [...document.querySelectorAll('button')].some((b) => b.textContent === 'Older runs' && !b.disabled),
      );
      tti.push(await page.evaluate(() => performance.now()));
      const first = await page.getByTestId('run-row').first().getAttribute('data-run-id');
      const t0 = await page.evaluate(() => performance.now());
      await page.getByRole('button', { name: 'Older runs' }).click();
      await page.waitForFunction(
        (id) => document.querySelector('[data-testid="run-row"]')?.getAttribute('data-run-id') !== id,
        first,
      );
      next.push((await page.evaluate(() => performance.now())) - t0);
    }
    tti.sort((a, b) => a - b);
    next.sort((a, b) => a - b);
    emit({
      bench: 'runs-list',
      phase: 'console',
      runs: RUNS,
      rounds: ROUNDS,
      time_to_interactive_p50_ms: round(percentile(tti, 50), 0),
      time_to_interactive_max_ms: round(tti.at(-1)!, 0),
      next_page_p50_ms: round(percentile(next, 50), 0),
      next_page_max_ms: round(next.at(-1)!, 0),
    });
  } finally {
    await browser.close();
    served.stop();
    await gateway.close();
  }
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
