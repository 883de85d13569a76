import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureChromium, ensureConsoleBuild } from '@vansales/infra';
import { startPlatform, until, type Platform } from './support/harness';

/** Key screens, for a person to look at what the console shows (kept after the run). */
const SCREENS = join(__dirname, '..', '..', '.vsc', 'test', 'screenshots', 'console');
const TENANT = 'console-e2e';

/** Flags for Debian's Chromium in a container: no sandbox (root), nothing fetched from the internet. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function unusedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** axe-core's serious and critical violations on the page as it is now (rule id and the elements it names). */
async function seriousViolations(page: Page): Promise<{ id: string; nodes: string[] }[]> {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  return page.evaluate(async () => {
    // Runs in the page, where axe-core put itself on the global object.
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    interface AxeViolation {
      id: string;
      impact?: string | null;
      nodes: { target: unknown[] }[];
    }
    const result = await axe.run();
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
}

describe('the console in a real browser: connect with a token, see a real agent online (Chromium, axe-core)', () => {
  let platform: Platform;
  let consoleServer: ChildProcess;
  let browser: Browser;
  let consoleUrl: string;

  beforeAll(async () => {
    const log = (line: string) => process.stdout.write(`[console e2e] ${line}\n`);
    const executablePath = ensureChromium(log);
    // Cached per source hash: minutes on the first run after a change to console/, a hash otherwise.
    const buildDir = ensureConsoleBuild(log);
    const port = await unusedPort();
    consoleUrl = `http://127.0.0.1:${port}`;
    consoleServer = spawn(process.execPath, [join(buildDir, 'console', 'server.js')], {
      cwd: join(buildDir, 'console'),
      env: { ...process.env, PORT: String(port), HOSTNAME: '127.0.0.1', NEXT_TELEMETRY_DISABLED: '1' },
      stdio: 'ignore',
    });
    platform = await startPlatform({ gateway: { VSC_CONSOLE_ORIGINS: consoleUrl } });
    await until('the console server to answer', () =>
      fetch(consoleUrl).then(
        (r) => r.ok,
        () => false,
      ),
    );
    // playwright-core gives each launch a fresh temporary profile (--user-data-dir) and removes it on close.
    browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
    mkdirSync(SCREENS, { recursive: true });
  }, 20 * 60_000);

  afterAll(async () => {
    await browser?.close();
    consoleServer?.kill();
    await platform?.close();
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

      const gatewayUrl = new URL(platform.gatewayWsUrl.replace(/^ws/, 'http')).origin;
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(consoleUrl);
      await page.getByLabel('Gateway URL').fill(gatewayUrl);
      await page.getByLabel('Token').fill(platform.adminToken);
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: join(SCREENS, '1-connect.png') });
      // Keyboard only: Enter submits the form.
      await page.getByLabel('Token').press('Enter');

      await page.waitForURL(/\/tenants$/);
      await page.getByLabel('Tenant id').fill(TENANT);
      await page.getByRole('button', { name: 'Open' }).click();
      await page.waitForURL(new RegExp(`/tenants/${TENANT}$`));
      const row = page.getByTestId('connector-warehouse');
      await row.getByText('Online', { exact: true }).waitFor({ timeout: 30_000 });
      expect(await row.textContent()).toContain(created.body.id);
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
      await page.close();
    },
    5 * 60_000,
  );
});
