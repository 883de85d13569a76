import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import {
  connectConsole,
  SCREENS,
  seriousViolations,
  startConsoleStand,
  type ConsoleStand,
} from './support/console-browser';
import { until, type Platform } from './support/harness';

const TENANT = 'console-e2e';

describe('the console in a real browser: connect with a token (the secondary way in), see a real agent online (Chromium, axe-core)', () => {
  let stand: ConsoleStand;
  let platform: Platform;
  let browser: Browser;

  beforeAll(async () => {
    stand = await startConsoleStand('console e2e');
    ({ platform, browser } = stand);
  }, 20 * 60_000);

  afterAll(async () => {
    await stand?.close();
  });

  it(
    'shows the tenant and its connector ONLINE after the token is pasted, with no serious accessibility violation',
    async () => {
      await platform.api('POST', '/v1/tenants', { id: TENANT, name: 'Console e2e' });
      const created = await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${TENANT}/connectors`, {
        name: 'warehouse',
      });
      expect(created.status).toBe(201);
      const agent = platform.startAgent({ apiKey: created.body.apiKey });
      await agent.welcomed;

      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await connectConsole(page, stand, async () => {
        expect(await seriousViolations(page)).toEqual([]);
        await page.screenshot({ path: join(SCREENS, '1-connect.png') });
      });

      await page.getByLabel('Tenant id').fill(TENANT);
      await page.getByRole('button', { name: 'Open' }).click();
      await page.waitForURL(new RegExp(`/tenants/${TENANT}$`));
      const row = page.getByTestId('connector-warehouse');
      await row.getByText('Online', { exact: true }).waitFor({ timeout: 30_000 });
      expect(await row.textContent()).toContain(created.body.id);
      // What the agent's hello said: its version, seen now.
      expect(await row.getByRole('cell').nth(2).textContent()).toBe('0.1.0');
      expect(await row.getByRole('cell').nth(3).textContent()).toBe('now');
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: join(SCREENS, '2-connectors.png') });

      // The token stayed in the tab: sessionStorage, no cookie.
      expect(await page.context().cookies()).toEqual([]);

      // Phone width: the status page still reads, with no serious violation.
      await page.setViewportSize({ width: 375, height: 740 });
      expect(await row.isVisible()).toBe(true);
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: join(SCREENS, '3-connectors-phone.png'), fullPage: true });

      // The agent goes away: the page says so on its own (it reads the status again every 5 s).
      await agent.close();
      await until('the gateway to see the agent gone', () => !platform.gateway.hub.isOnline(created.body.id));
      await row.getByText('Offline', { exact: true }).waitFor({ timeout: 30_000 });
      // Last seen is when it left: a time, no longer "now" (nor "never").
      expect(await row.getByRole('cell').nth(3).textContent()).not.toMatch(/^(now|never)$/);
      await page.close();
    },
    5 * 60_000,
  );
});
