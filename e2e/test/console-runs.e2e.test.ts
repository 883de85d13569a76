import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  connectConsole,
  checkBothWidths,
  SCREENS,
  launchChromium,
  serveConsole,
  type ConsoleTarget,
} from './support/console-browser';
import { publishDefinition, startDefinitionRun, untilRunEnds } from './support/definition-rest';
import { sakilaDatabase, sakilaReader, startPlatform, until, type Platform } from './support/harness';
import { approvalDocument, chainDocument } from './support/runs-fixture';
import { startStandInWorker } from './support/stand-in-worker';

/**
 * The console's Runs and Audit pages in Chromium against a real gateway and Temporal (the
 * interpreter's stand-in runs the definitions): list, filter, open a run, read its steps, retry a
 * failed run from its failed step, cancel a running one; the people audit and a connector's
 * verified chain; axe-core at laptop and phone width.
 */
describe('the console runs and audit pages in a real browser (Chromium, axe-core)', () => {
  let platform: Platform;
  let served: { url: string; stop(): void };
  let browser: Browser;
  let consoleTarget: ConsoleTarget;
  let worker: { close(): Promise<void> };
  const tenant = `crun-${randomBytes(3).toString('hex')}`;
  let held: string;
  let failed: string;

  const rows = (page: Page) => page.getByTestId('run-row');

  beforeAll(async () => {
    const log = (line: string) => process.stdout.write(`[console runs e2e] ${line}\n`);
    served = await serveConsole(log);
    platform = await startPlatform({ workflowWorker: false, gateway: { VSC_CONSOLE_ORIGINS: served.url } });
    browser = await launchChromium(log);
    consoleTarget = {
      consoleUrl: served.url,
      gatewayUrl: new URL(platform.gatewayWsUrl.replace(/^ws/, 'http')).origin,
      token: platform.adminToken,
    };
    worker = await startStandInWorker(platform, { withAgentQueries: true });
    expect((await platform.api('POST', '/v1/tenants', { id: tenant, name: tenant })).status).toBe(201);
    const connector = await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenant}/connectors`, {
      name: 'erp',
    });
    // A query through a real agent: its operation is a record in the connector's chain.
    const agent = platform.startAgent({
      apiKey: connector.body.apiKey,
      databases: { sakila: sakilaDatabase(await sakilaReader()) },
    });
    await agent.welcomed;
    const query = await platform.api('POST', `/v1/tenants/${tenant}/queries`, {
      connectorId: connector.body.id,
      database: 'sakila',
      sql: 'SELECT film_id, title FROM film ORDER BY film_id LIMIT 3',
    });
    expect(query.status).toBe(200);
    await publishDefinition(platform, tenant, 'approvals', approvalDocument(connector.body.id));
    await publishDefinition(platform, tenant, 'chain', chainDocument());
    held = await startDefinitionRun(platform, tenant, 'approvals');
    failed = await startDefinitionRun(platform, tenant, 'chain', { failAt: 'transform' });
    await untilRunEnds(platform, tenant, 'chain', failed);
  }, 20 * 60_000);

  afterAll(async () => {
    await browser?.close();
    served?.stop();
    await worker?.close();
    await platform?.close();
  });

  it(
    'lists and filters runs, shows a failed run’s steps and retries it from its step, cancels a running one',
    async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await connectConsole(page, consoleTarget);
      await page.goto(`${served.url}/tenants/${tenant}/runs`);
      await until('both runs listed', async () => (await rows(page).count()) === 2);
      await checkBothWidths(page, 'runs-1-list');

      await page.getByLabel('Status').selectOption('failed');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await until('only the failed run listed', async () => (await rows(page).count()) === 1);
      expect(await rows(page).first().getAttribute('data-run-id')).toBe(failed);

      await rows(page).first().getByRole('link').click();
      await page.getByTestId('step-transform').getByText('failed', { exact: true }).waitFor();
      await page.getByTestId('step-extract').getByText('completed', { exact: true }).waitFor();
      expect(await page.getByTestId('step-load').textContent()).toContain('pending');
      // The error is there, with what to do about it.
      const alert = page.getByTestId('step-transform').getByRole('alert');
      expect(await alert.textContent()).toMatch(/Error:.*retry from this step/is);
      await checkBothWidths(page, 'runs-2-failed-run');

      await alert.getByRole('button', { name: 'Retry from transform' }).click();
      await page.getByRole('link', { name: 'Open the new run' }).click();
      await page.getByTestId('run-status').getByText('completed', { exact: true }).waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('step-extract').textContent()).toContain('reused from the failed run');
      await page.screenshot({ path: join(SCREENS, 'runs-3-retried.png'), fullPage: true });

      await page.goto(`${served.url}/tenants/${tenant}/runs`);
      await page.getByLabel('Definition').fill('approvals');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await until('only the held run listed', async () => (await rows(page).count()) === 1);
      await rows(page).first().getByRole('link').click();
      await page.getByTestId('step-approve').getByText('waiting', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Cancel run' }).click();
      await page.getByTestId('run-status').getByText('cancelled', { exact: true }).waitFor({ timeout: 60_000 });
      await checkBothWidths(page, 'runs-4-cancelled');
      expect((await untilRunEnds(platform, tenant, 'approvals', held)).status).toBe('cancelled');

      // A pause flag from the run page: the definition is held, then resumed.
      await page.getByRole('button', { name: 'Pause definition' }).click();
      await page
        .getByTestId('flag-state')
        .getByText(/is paused/)
        .waitFor();
      await page.getByRole('button', { name: 'Resume definition' }).click();
      await page
        .getByTestId('flag-state')
        .getByText(/No flag holds/)
        .waitFor();
      await page.close();
    },
    10 * 60_000,
  );

  it(
    'shows the people audit (filtered, exported, its chain verified) and a connector’s verified chain',
    async () => {
      // A flag set and cleared through REST: people's changes, in the tenant's audit.
      const flag = { scope: 'definition', targetId: 'chain' };
      await platform.api('POST', `/v1/tenants/${tenant}/flags`, { ...flag, state: 'paused', reason: 'audit e2e' });
      await platform.api('DELETE', `/v1/tenants/${tenant}/flags`, flag);
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await connectConsole(page, consoleTarget);
      await page.goto(`${served.url}/tenants/${tenant}/audit`);
      const table = page.getByTestId('audit-table');
      await table.waitFor();
      expect(await table.textContent()).toContain('POST /v1/tenants/:tenantId/definitions/:definitionId/runs');
      await page.getByLabel('Operation').fill('POST /v1/tenants/:tenantId/flags');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      const flagRows = table.locator('tbody tr');
      await until('only flag changes listed', async () => {
        const texts = await flagRows.allTextContents();
        return texts.length > 0 && texts.every((t) => t.includes('POST /v1/tenants/:tenantId/flags'));
      });
      const listed = await flagRows.count();

      await page.getByRole('button', { name: 'Export as NDJSON' }).click();
      expect(await page.getByTestId('audit-export').textContent()).toContain(`(${listed} records, oldest first)`);

      // The people chain, verified by the gateway: every record of the tenant's chain, not the filtered page.
      await page.getByRole('button', { name: 'Verify the chain' }).click();
      const people = await platform.api<{ ok: boolean; count: number }>('GET', `/v1/tenants/${tenant}/audit/verify`);
      expect(people.body.ok).toBe(true);
      expect(people.body.count).toBeGreaterThan(listed);
      await page
        .getByTestId('people-chain-verdict')
        .getByText(new RegExp(`^verified Verified: ${people.body.count} records`))
        .waitFor();

      await page
        .getByTestId('chain-verdict')
        .getByText(/Verified: [1-9]\d* records?/)
        .waitFor();
      expect(await page.getByTestId('chain-table').locator('tbody tr').count()).toBeGreaterThan(0);
      await checkBothWidths(page, 'audit-1');
      await page.close();
    },
    5 * 60_000,
  );
});
