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

export interface ConsoleStand {
  platform: Platform;
  browser: Browser;
  consoleUrl: string;
  /** The gateway's http origin, as a person pastes it on the Connect page. */
  gatewayUrl: string;
  close(): Promise<void>;
}

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
      consoleServer.kill();
      await platform.close();
    },
  };
}

/** Connect page: paste the gateway URL and token, press Enter (keyboard only), land on Tenants. */
export async function connectConsole(page: Page, stand: ConsoleStand, onFilled?: () => Promise<void>): Promise<void> {
  await page.goto(stand.consoleUrl);
  await page.getByLabel('Gateway URL').fill(stand.gatewayUrl);
  await page.getByLabel('Token').fill(stand.platform.adminToken);
  await onFilled?.();
  await page.getByLabel('Token').press('Enter');
  await page.waitForURL(/\/tenants$/);
}
