import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureChromium, ensureConsoleBuild } from '@vansales/infra';
import { until } from './harness';

/** Key screens of the console tests, for a person to look at what the console shows (kept after the run). */
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

export interface ConsoleServer {
  url: string;
  /** Waits until the server answers (start the gateway meanwhile: it must know the console's origin). */
  ready(): Promise<void>;
  stop(): void;
}

/** The built console (cached per source hash: minutes on the first run after a change to console/) on a free port. */
export async function startConsoleServer(log: (line: string) => void): Promise<ConsoleServer> {
  const buildDir = ensureConsoleBuild(log);
  const port = await unusedPort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, [join(buildDir, 'console', 'server.js')], {
    cwd: join(buildDir, 'console'),
    env: { ...process.env, PORT: String(port), HOSTNAME: '127.0.0.1', NEXT_TELEMETRY_DISABLED: '1' },
    stdio: 'ignore',
  });
  return {
    url,
    ready: () =>
      until('the console server to answer', () =>
        fetch(url).then(
          (r) => r.ok,
          () => false,
        ),
      ).then(() => undefined),
    stop: () => void child.kill(),
  };
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
