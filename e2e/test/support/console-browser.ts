import { mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, ensureChromium, serveConsoleBuild } from '@vansales/infra';
import { startPlatform, type Platform } from './harness';

/** Key screens of the console tests, for a person to look at what the console shows (kept after the run). */
export const SCREENS = join(__dirname, '..', '..', '..', '.vsc', 'test', 'screenshots', 'console');

export async function unusedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The built console on a free port (cached per source hash: minutes on the first run after a change to console/). */
export async function serveConsole(log: (line: string) => void): Promise<{ url: string; stop(): void }> {
  return serveConsoleBuild(log, await unusedPort());
}

/** Debian's Chromium, headless; playwright-core gives each launch a fresh temporary profile and removes it on close. */
export async function launchChromium(log: (line: string) => void): Promise<Browser> {
  const executablePath = ensureChromium(log);
  mkdirSync(SCREENS, { recursive: true });
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

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

/** The page checked with axe-core at laptop (1280 px) and phone (375 px) width, a screenshot of each. */
export async function checkBothWidths(page: Page, name: string): Promise<void> {
  for (const [width, height, suffix] of [
    [1280, 800, ''],
    [375, 740, '-phone'],
  ] as const) {
    await page.setViewportSize({ width, height });
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: join(SCREENS, `${name}${suffix}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** Where the console's token page connects to: the gateway's http origin and a bearer token. */
export interface ConsoleTarget {
  consoleUrl: string;
  /** The gateway's http(s) origin, as a person pastes it on the token page. */
  gatewayUrl: string;
  token: string;
}

export interface ConsoleStand extends ConsoleTarget {
  platform: Platform;
  browser: Browser;
  close(): Promise<void>;
}

/**
 * The built console, a real platform whose gateway allows its origin, and Debian's Chromium.
 * `gatewayEnv` adds gateway settings (VSC_CONSOLE_ORIGINS is set here). The token is the admin token.
 */
export async function startConsoleStand(label: string, gatewayEnv: Record<string, string> = {}): Promise<ConsoleStand> {
  const log = (line: string) => process.stdout.write(`[${label}] ${line}\n`);
  const served = await serveConsole(log);
  const platform = await startPlatform({ gateway: { VSC_CONSOLE_ORIGINS: served.url, ...gatewayEnv } });
  const browser = await launchChromium(log);
  return {
    platform,
    browser,
    consoleUrl: served.url,
    gatewayUrl: new URL(platform.gatewayWsUrl.replace(/^ws/, 'http')).origin,
    token: platform.adminToken,
    async close() {
      await browser.close();
      served.stop();
      await platform.close();
    },
  };
}

/**
 * Waits until the way-in page (sign-in or token) runs in React: its Gateway URL field gets its default
 * from an effect after hydration, so a URL typed before that is overwritten, and the form's button does
 * nothing before it. A sign-in test typing at once could send its request to the default port, or none.
 */
export async function untilWayInReady(page: Page): Promise<void> {
  await page.waitForFunction(
    "(() => { const input = document.querySelector('input[name=\"gatewayUrl\"]'); return !!input && input.value !== ''; })()",
  );
}

/**
 * The token page (the secondary way in, beside signing in): paste the gateway URL and a token, press
 * Enter (keyboard only), land on Tenants. `onFilled` runs on the filled form, before it is sent.
 */
export async function connectConsole(page: Page, target: ConsoleTarget, onFilled?: () => Promise<void>): Promise<void> {
  await page.goto(`${target.consoleUrl}/token`);
  await untilWayInReady(page);
  await page.getByLabel('Gateway URL').fill(target.gatewayUrl);
  await page.getByLabel('Token').fill(target.token);
  await onFilled?.();
  await page.getByLabel('Token').press('Enter');
  await page.waitForURL(/\/tenants$/);
}

/**
 * The sign-in page (the primary way in): the gateway's URL, a person's email address and password,
 * "Sign in". Where it lands (Tenants, or the refusal) is the caller's to wait for.
 */
export async function signInConsole(
  page: Page,
  target: { consoleUrl: string; gatewayUrl: string },
  person: { email: string; password: string },
): Promise<void> {
  await page.goto(target.consoleUrl);
  await untilWayInReady(page);
  await page.getByLabel('Gateway URL').fill(target.gatewayUrl);
  await page.getByLabel('Email address').fill(person.email);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** The designer's pointer-free way to connect two steps (the canvas's handles need a pointer). */
export async function connectSteps(page: Page, from: string, to: string): Promise<void> {
  const form = page.getByRole('complementary', { name: 'Inspector' });
  await form.getByLabel('From step').selectOption({ label: from });
  await form.getByLabel('To step').selectOption({ label: to });
  await form.getByRole('button', { name: 'Connect', exact: true }).click();
}

/** Waits (10 s) for `text` to appear in `locator`. */
export async function expectText(locator: Locator, text: string): Promise<void> {
  await locator.getByText(text, { exact: false }).first().waitFor({ timeout: 10_000 });
}

/** "Add custom API aggregator" (already open) filled with an id, a base URL and a spec file, then sent. */
export async function registerApiInConsole(
  page: Page,
  apiId: string,
  baseUrl: string,
  file: { name: string; buffer: Buffer },
): Promise<void> {
  const form = page.getByRole('form', { name: 'Add custom API aggregator' });
  await form.getByLabel('API id').fill(apiId);
  await form.getByLabel('Base URL').fill(baseUrl);
  await form.getByLabel('Specification file').setInputFiles({ ...file, mimeType: 'application/yaml' });
  await form.getByRole('button', { name: 'Validate and register' }).click();
}
