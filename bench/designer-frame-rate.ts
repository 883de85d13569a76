import { chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, ensureChromium, serveConsoleBuild } from '@vansales/infra';
import { freePort } from './support';
import { emit, round } from './common/json-lines';

/**
 * The designer's frame rate while a node is dragged, on graphs of 10, 100 and 1,000 nodes (issue 12
 * §3), in Debian's Chromium through playwright-core. Frames are counted in the page with
 * requestAnimationFrame during the drag; the 10-node graph is the floor (the same drag with almost
 * nothing to draw). Also: how long the import took to draw and how long one validation of the whole
 * document takes in the browser (the designer validates on every edit).
 *
 * Then, on each graph, the time from an edit to its error painted on the node.
 *
 * The page needs no gateway: the document is imported as JSON (the session points at a closed port,
 * so the palette's lists say the gateway did not answer). The definition format allows 1,000 steps
 * (MAX_STEPS of @vansales/definitions), so every graph here is one a person can save.
 *
 *   cd bench && node --import tsx designer-frame-rate.ts
 */
const SIZES = [10, 100, 500, 1_000];
const DRAG_MOVES = 180;
const CHAINS = 25;

/** `n` steps in CHAINS parallel lines: each a source then map transforms. */
function documentOf(n: number): unknown {
  const steps: unknown[] = [];
  const edges: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const chain = i % CHAINS;
    const first = i < CHAINS;
    steps.push(
      first
        ? {
            id: `s${i}`,
            kind: 'source',
            db: { endpoint: { kind: 'cloud-db', database: 'bench' }, table: { name: `t${chain}` } },
          }
        : { id: `s${i}`, kind: 'transform', transform: { op: 'map', fields: { id: 'id', name: '$uppercase(name)' } } },
    );
    if (!first) edges.push({ from: `s${i - CHAINS}`, to: `s${i}` });
  }
  return { format: 'vansales.definition/v1', name: `bench ${n}`, triggers: [{ kind: 'manual' }], steps, edges };
}

async function dragFrameRate(
  page: Page,
  nodeTestId: string,
): Promise<{ fps: number; frames: number; seconds: number }> {
  const box = await page.getByTestId(nodeTestId).boundingBox();
  if (!box) throw new Error(`${nodeTestId} is not on screen`);
  const x = box.x + box.width / 2;
  const y = box.y + 8;
  // A string, not a function: tsx names arrow functions with a helper the page does not have.
  await page.evaluate(`(() => {
    window.__frames = 0;
    window.__counting = true;
    window.__t0 = performance.now();
    const tick = () => {
      if (!window.__counting) return;
      window.__frames++;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })()`);
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let i = 1; i <= DRAG_MOVES; i++) await page.mouse.move(x + i * 2, y + Math.sin(i / 10) * 40);
  await page.mouse.up();
  const { frames, ms } = await page.evaluate(() => {
    const w = globalThis as unknown as { __frames: number; __counting: boolean; __t0: number };
    w.__counting = false;
    return { frames: w.__frames, ms: performance.now() - w.__t0 };
  });
  return { fps: frames / (ms / 1000), frames, seconds: ms / 1000 };
}

/**
 * From an edit in the inspector (the source's table name emptied) to its error on the node, painted:
 * the input event is dispatched in the page, a MutationObserver sees the error appear on the node,
 * and the next animation frame is the paint. The issue asks for errors on the node within 100 ms.
 */
async function editToNodeError(page: Page): Promise<number> {
  await page.getByTestId('node-s0').click();
  const input = page.getByRole('complementary', { name: 'Inspector' }).getByLabel('name', { exact: true });
  await input.waitFor();
  return input.evaluate(
    (el) =>
      new Promise<number>((resolve) => {
        const g = globalThis as unknown as {
          document: { querySelector(s: string): unknown };
          MutationObserver: new (cb: () => void) => { observe(n: unknown, o: unknown): void; disconnect(): void };
          Event: new (type: string, init: unknown) => unknown;
          requestAnimationFrame(cb: () => void): void;
          HTMLInputElement: { prototype: object };
        };
        const started = performance.now();
        // The whole page is watched: the node's element may be drawn anew when its step changes.
        const observer = new g.MutationObserver(() => {
          if (!g.document.querySelector('[data-testid="node-s0"] .issue-error')) return;
          observer.disconnect();
          g.requestAnimationFrame(() => resolve(performance.now() - started));
        });
        observer.observe(g.document.querySelector('body'), { subtree: true, childList: true });
        // No error within 5 s: reported as null rather than waited for.
        setTimeout(() => {
          observer.disconnect();
          resolve(Number.NaN);
        }, 5_000);
        // React tracks the value through the prototype's setter: set it there, then say so.
        Object.getOwnPropertyDescriptor(g.HTMLInputElement.prototype, 'value')!.set!.call(el, '');
        (el as unknown as { dispatchEvent(e: unknown): void }).dispatchEvent(new g.Event('input', { bubbles: true }));
      }),
  );
}

const nullIfNaN = (n: number) => (Number.isNaN(n) ? null : n);

/** Wheel-zooms on a node until the canvas is at 100% (d3-zoom: each notch is about 1.15x). */
async function zoomToFull(page: Page, nodeTestId: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const zoom = await page.evaluate(() => {
      const viewport = (
        globalThis as unknown as { document: { querySelector(s: string): { style: { transform: string } } | null } }
      ).document.querySelector('.react-flow__viewport');
      return Number(/scale\(([\d.]+)\)/.exec(viewport?.style.transform ?? '')?.[1] ?? 1);
    });
    if (zoom >= 0.95) return;
    const box = await page.getByTestId(nodeTestId).boundingBox();
    if (!box) return;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, zoom > 0.8 ? -30 : -100);
    await page.waitForTimeout(100);
  }
}

async function main() {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const executablePath = ensureChromium(log);
  const served = await serveConsoleBuild(log, await freePort());
  const consoleUrl = served.url;
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  try {
    // Port 9 (discard): nothing listens, so the palette's calls fail at once.
    const closedGateway = 'http://127.0.0.1:9';
    for (const n of SIZES) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(consoleUrl);
      await page.evaluate(
        (url) =>
          (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }).sessionStorage.setItem(
            'vsc.console.session',
            JSON.stringify({ gatewayUrl: url, token: 'bench' }),
          ),
        closedGateway,
      );
      await page.goto(`${consoleUrl}/tenants/bench/designer`);
      await page.getByText('Import or export the document (JSON)').click();
      await page.getByLabel('Definition document').fill(JSON.stringify(documentOf(n)));
      const started = Date.now();
      await page.getByRole('button', { name: 'Import', exact: true }).click();
      await page.waitForFunction(
        (count) => (globalThis as unknown as { __designer?: { nodes: number } }).__designer?.nodes === count,
        n,
      );
      await page.getByTestId('node-s0').waitFor();
      const drawMs = Date.now() - started;
      const validationMs = await page.evaluate(
        () => (globalThis as unknown as { __designer: { validationMs: number } }).__designer.validationMs,
      );
      const base = {
        bench: 'designer-frame-rate',
        nodes: n,
        import_to_drawn_ms: drawMs,
        validation_ms: round(validationMs, 1),
      };
      // As imported, the whole graph fits the canvas (every node drawn), then at 100% zoom (the
      // nodes on screen drawn: onlyRenderVisibleElements), where a person actually edits.
      for (const view of ['fit', 'zoom-100'] as const) {
        if (view === 'zoom-100') {
          await zoomToFull(page, 'node-s0');
          // Here, before the drag moves s0 (perhaps off the canvas): at 100% the node shows its errors in words.
          emit({
            bench: 'designer-edit-to-node-error',
            nodes: n,
            ms: nullIfNaN(round(await editToNodeError(page), 1)),
          });
        }
        const rendered = await page.locator('.react-flow__node').count();
        const drag = await dragFrameRate(page, 'node-s0');
        emit({
          ...base,
          view,
          rendered_nodes: rendered,
          drag_fps: round(drag.fps, 1),
          drag_frames: drag.frames,
          drag_seconds: round(drag.seconds, 2),
        });
      }
      await page.close();
    }
  } finally {
    await browser.close();
    served.stop();
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
