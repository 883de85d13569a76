<<<<<<< HEAD
import { mkdirSync } from 'node:fs';
<<<<<<< HEAD
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureChromium, ensureConsoleBuild, startBuiltConsole } from '@vansales/infra';
import { startPlatform, type Platform } from './harness';

/** Key screens of the console tests, for a person to look at what the console shows (kept after the run). */
export const SCREENS = join(__dirname, '..', '..', '..', '.vsc', 'test', 'screenshots', 'console');

/** Flags for Debian's Chromium in a container: no sandbox (root), nothing fetched from the internet. */
export const CHROMIUM_ARGS = [
=======
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureChromium, ensureConsoleBuild } from '@vansales/infra';
import { startPlatform, until, type Platform } from './harness';

/** Key screens, for a person to look at what the console shows (kept after the run). */
export const SCREENS = join(__dirname, '..', '..', '..', '.vsc', 'test', 'screenshots', 'console');

/** Flags for Debian's Chromium in a container: no sandbox (root), nothing fetched from the internet. */
const CHROMIUM_ARGS = [
>>>>>>> i16-cmarket
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
<<<<<<< HEAD
=======
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, ensureChromium, serveConsoleBuild } from '@vansales/infra';

/** Key screens, for a person to look at what the console shows (kept after the run). */
export const SCREENS = join(__dirname, '..', '..', '..', '.vsc', 'test', 'screenshots', 'console');

export async function unusedPort(): Promise<number> {
=======

async function unusedPort(): Promise<number> {
>>>>>>> i16-cmarket
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
<<<<<<< HEAD
>>>>>>> i16-cruns
=======
>>>>>>> i16-cmarket

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

<<<<<<< HEAD
<<<<<<< HEAD
export interface ConsoleUnderTest {
  platform: Platform;
  browser: Browser;
  consoleUrl: string;
  /** The gateway's http(s) origin, as a person pastes it on the Connect page. */
=======
export interface ConsoleStand {
  platform: Platform;
  browser: Browser;
  consoleUrl: string;
  /** The gateway's http origin, as a person pastes it on the Connect page. */
>>>>>>> i16-cmarket
  gatewayUrl: string;
  close(): Promise<void>;
}

<<<<<<< HEAD
/** The built console (cached per source hash), a real platform that allows its origin, and Debian's Chromium. */
export async function startConsole(log: (line: string) => void): Promise<ConsoleUnderTest> {
  const executablePath = ensureChromium(log);
  // Cached per source hash: minutes on the first run after a change to console/, a hash otherwise.
  const buildDir = ensureConsoleBuild(log);
  const served = await startBuiltConsole(buildDir);
  const consoleUrl = served.url;
  const platform = await startPlatform({ gateway: { VSC_CONSOLE_ORIGINS: consoleUrl } });
=======
/** The built console served on a free port (built once per source hash), and Chromium to drive it. */
export interface ConsoleBrowser {
  consoleUrl: string;
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Serves the built console and launches Chromium. `beforeBrowser` runs between the two: the gateway
 * needs the console's origin (VSC_CONSOLE_ORIGINS) before it starts.
 */
export async function startConsoleBrowser(
  label: string,
  beforeBrowser: (consoleUrl: string) => Promise<void>,
): Promise<ConsoleBrowser> {
  const log = (line: string) => process.stdout.write(`[${label}] ${line}\n`);
  const executablePath = ensureChromium(log);
  // Cached per source hash: minutes on the first run after a change to console/, a hash otherwise.
  const server = await serveConsoleBuild(log, await unusedPort());
  const consoleUrl = server.url;
  await beforeBrowser(consoleUrl);
>>>>>>> i16-cruns
=======
/**
 * The built console (cached per source hash), a real platform whose gateway allows its origin, and
 * Debian's Chromium. `gatewayEnv` adds gateway settings (VSC_CONSOLE_ORIGINS is set here).
 */
export async function startConsoleStand(label: string, gatewayEnv: Record<string, string> = {}): Promise<ConsoleStand> {
  const log = (line: string) => process.stdout.write(`[${label}] ${line}\n`);
  const executablePath = ensureChromium(log);
  // Cached per source hash: minutes on the first run after a change to console/, a hash otherwise.
  const buildDir = ensureConsoleBuild(log);
  const port = await unusedPort();
  const consoleUrl = `http://127.0.0.1:${port}`;
  const consoleServer: ChildProcess = spawn(process.execPath, [join(buildDir, 'console', 'server.js')], {
    cwd: join(buildDir, 'console'),
    env: { ...process.env, PORT: String(port), HOSTNAME: '127.0.0.1', NEXT_TELEMETRY_DISABLED: '1' },
    stdio: 'ignore',
  });
  const platform = await startPlatform({ gateway: { VSC_CONSOLE_ORIGINS: consoleUrl, ...gatewayEnv } });
  await until('the console server to answer', () =>
    fetch(consoleUrl).then(
      (r) => r.ok,
      () => false,
    ),
  );
>>>>>>> i16-cmarket
  // playwright-core gives each launch a fresh temporary profile (--user-data-dir) and removes it on close.
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  mkdirSync(SCREENS, { recursive: true });
  return {
<<<<<<< HEAD
<<<<<<< HEAD
=======
>>>>>>> i16-cmarket
    platform,
    browser,
    consoleUrl,
    gatewayUrl: new URL(platform.gatewayWsUrl.replace(/^ws/, 'http')).origin,
    async close() {
      await browser.close();
<<<<<<< HEAD
      served.stop();
      await platform.close();
=======
    consoleUrl,
    browser,
    async close() {
      await browser.close();
      server.stop();
>>>>>>> i16-cruns
=======
      consoleServer.kill();
      await platform.close();
>>>>>>> i16-cmarket
    },
  };
}

<<<<<<< HEAD
<<<<<<< HEAD
/** The Connect page: paste the gateway URL and the admin token, submit with the keyboard. */
export async function connect(page: Page, under: ConsoleUnderTest): Promise<void> {
  await page.goto(under.consoleUrl);
  await page.getByLabel('Gateway URL').fill(under.gatewayUrl);
  await page.getByLabel('Token').fill(under.platform.adminToken);
=======
/** Fills the Connect page (gateway URL and token) and submits it from the keyboard. */
export async function connectConsole(page: Page, consoleUrl: string, gatewayUrl: string, token: string) {
  await page.goto(consoleUrl);
  await page.getByLabel('Gateway URL').fill(gatewayUrl);
  await page.getByLabel('Token').fill(token);
>>>>>>> i16-cruns
=======
/** Connect page: paste the gateway URL and token, press Enter (keyboard only), land on Tenants. */
export async function connectConsole(page: Page, stand: ConsoleStand, onFilled?: () => Promise<void>): Promise<void> {
  await page.goto(stand.consoleUrl);
  await page.getByLabel('Gateway URL').fill(stand.gatewayUrl);
  await page.getByLabel('Token').fill(stand.platform.adminToken);
  await onFilled?.();
>>>>>>> i16-cmarket
  await page.getByLabel('Token').press('Enter');
  await page.waitForURL(/\/tenants$/);
}
