import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureChromium, ensureConsoleBuild, startBuiltConsole } from '@vansales/infra';
import { startPlatform, type Platform } from './harness';

/** Key screens of the console tests, for a person to look at what the console shows (kept after the run). */
export const SCREENS = join(__dirname, '..', '..', '..', '.vsc', 'test', 'screenshots', 'console');

/** Flags for Debian's Chromium in a container: no sandbox (root), nothing fetched from the internet. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** axe-core's serious and critical violations on the page as it is now (rule id and the elements it names). */
export async function seriousViolations(page: Page): Promise<{ id: string; nodes: string[] }[]> {
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

export interface ConsoleUnderTest {
  platform: Platform;
  browser: Browser;
  consoleUrl: string;
  /** The gateway's http(s) origin, as a person pastes it on the Connect page. */
  gatewayUrl: string;
  close(): Promise<void>;
}

/** The built console (cached per source hash), a real platform that allows its origin, and Debian's Chromium. */
export async function startConsole(log: (line: string) => void): Promise<ConsoleUnderTest> {
  const executablePath = ensureChromium(log);
  // Cached per source hash: minutes on the first run after a change to console/, a hash otherwise.
  const buildDir = ensureConsoleBuild(log);
  const served = await startBuiltConsole(buildDir);
  const consoleUrl = served.url;
  const platform = await startPlatform({ gateway: { VSC_CONSOLE_ORIGINS: consoleUrl } });
  // playwright-core gives each launch a fresh temporary profile (--user-data-dir) and removes it on close.
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  mkdirSync(SCREENS, { recursive: true });
  return {
    platform,
    browser,
    consoleUrl,
    gatewayUrl: new URL(platform.gatewayWsUrl.replace(/^ws/, 'http')).origin,
    async close() {
      await browser.close();
      served.stop();
      await platform.close();
    },
  };
}

/** The Connect page: paste the gateway URL and the admin token, submit with the keyboard. */
export async function connect(page: Page, under: ConsoleUnderTest): Promise<void> {
  await page.goto(under.consoleUrl);
  await page.getByLabel('Gateway URL').fill(under.gatewayUrl);
  await page.getByLabel('Token').fill(under.platform.adminToken);
  await page.getByLabel('Token').press('Enter');
  await page.waitForURL(/\/tenants$/);
}
