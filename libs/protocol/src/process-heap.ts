import { setFlagsFromString } from 'node:v8';

/**
 * How much V8 lets the old generation grow past what survived the last full collection before it
 * collects again, as a percentage. V8's own factor goes up to 4x on a fast-allocating process; a
 * process moving rows makes batches of garbage at a high rate, so with the default heap limit of
 * several GB its heap grew to 3-4x its live data and the agent and the cloud worker went over their
 * 300 MB target (bench/README.md, data-transfer: memory). A fixed, smaller factor keeps RSS near the
 * live data for a few more full collections (measured there). Unlike --max-old-space-size it is no
 * limit: a process that needs more memory still gets it, and Temporal's workflow cache, sized from
 * the heap limit, keeps its size.
 */
export const DEFAULT_HEAP_GROWING_PERCENT = 50;

/** The environment variable that sets it; 0 leaves V8's own factor. */
export const HEAP_GROWING_ENV = 'VSC_HEAP_GROWING_PERCENT';

/**
 * Sets V8's heap growing factor for this process (all its threads) from the environment, unless
 * node was started with `--heap-growing-percent` itself. Returns the percentage in effect (0 for
 * V8's own), or throws an Error naming the variable when its value is not a whole number 0-400.
 */
export function limitHeapGrowth(
  env: Record<string, string | undefined> = process.env,
  execArgv: readonly string[] = process.execArgv,
): number {
  const given = execArgv.find((a) => a.startsWith('--heap-growing-percent') || a.startsWith('--heap_growing_percent'));
  if (given) return Number(given.split('=')[1] ?? 0);
  const raw = env[HEAP_GROWING_ENV];
  const percent = raw === undefined || raw.trim() === '' ? DEFAULT_HEAP_GROWING_PERCENT : Number(raw);
  if (!Number.isInteger(percent) || percent < 0 || percent > 400)
    throw new Error(
      `${HEAP_GROWING_ENV}=${raw} is not a whole number from 0 to 400 (percent the heap may grow between full collections; 0 = V8's own)`,
    );
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
  return percent;
}

/**
 * Node flags our long-running processes start with (the launcher passes them: a process cannot size
 * its young generation once started; the agent's single executable carries them in its blob).
 * Node 26 gives the young generation 3 x 32 MB semi-spaces by default; a process moving rows fills
 * them at once and keeps them. At 8 MB each process's peak while 1M rows moved fell by 45-70 MB
 * (gateway 274-316 -> 230, combined cloud worker 345 -> 285-289, agent 249 -> 209 MB) for about 5 %
 * more CPU in the cloud worker's extract and none measurable elsewhere (bench/README.md, data-transfer:
 * memory, 2026-12-04).
 */
export const YOUNG_GENERATION_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
