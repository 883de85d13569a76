/**
 * Where a `--cpu-prof` profile spent its time: self time per function and per module (our
 * packages by name, node_modules by package, node: internals, native/GC), as JSON lines.
 *
 *   node --import tsx cpu-profile-summary.ts <file.cpuprofile> [--top 25] [--timeline 2] [--from S --to S]
 *
 * `--timeline N` also prints, per N seconds, how busy the thread was and its busiest modules: the
 * phases of a run (extract, load, the untimed checksums) show up as their own stretches.
 */
import { readFileSync } from 'node:fs';
import { cliOption } from './support';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv.slice(2).find((a) => !a.startsWith('--'));
if (!file) throw new Error('usage: cpu-profile-summary.ts <file.cpuprofile> [--top N]');
const top = Number(cliOption('top') ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

/** A module label: @vansales package and file, an npm package, node: internals, or what V8 names it. */
function moduleOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const pnpm = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pnpm) return pnpm[1]!;
  if (url.startsWith('node:')) return url;
  const ours =
    /\/(buffer|dataflow|gateway|connector-agent|activities|workflows|protocol|temporal-config|metadata|bench)\/(?:src|dist)\/(.*)$/.exec(
      url,
    );
  if (ours) return `${ours[1]}/${ours[2]}`;
  return url.replace(/^file:\/\//, '');
}

// `--from S --to S`: only the samples of that window (seconds from the profile's start), e.g. one
// phase of a benchmark that a `--timeline` run located.
const fromUs = Number(cliOption('from') ?? 0) * 1e6;
const toUs = Number(cliOption('to') ?? Infinity) * 1e6;
const selfUs = new Map<number, number>();
for (let i = 0, at = 0; i < profile.samples.length; i++) {
  at += profile.timeDeltas[i] ?? 0;
  if (at < fromUs || at > toUs) continue;
  selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const perFunction = new Map<string, number>();
const perModule = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const mod = moduleOf(url, functionName);
  const fn = `${functionName || '(anonymous)'} ${mod}${url ? `:${lineNumber + 1}` : ''}`;
  perFunction.set(fn, (perFunction.get(fn) ?? 0) + us);
  perModule.set(mod, (perModule.get(mod) ?? 0) + us);
}
const rows = (m: Map<string, number>) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, seconds: Math.round(us / 1e4) / 100, pct: Math.round((us / total) * 1000) / 10 }));
process.stdout.write(`${JSON.stringify({ profile: file, seconds: Math.round(total / 1e4) / 100 })}\n`);
for (const r of rows(perModule))
  process.stdout.write(`${JSON.stringify({ module: r.name, seconds: r.seconds, pct: r.pct })}\n`);
for (const r of rows(perFunction))
  process.stdout.write(`${JSON.stringify({ function: r.name, seconds: r.seconds, pct: r.pct })}\n`);

const bucketSeconds = Number(cliOption('timeline') ?? 0);
if (bucketSeconds > 0) {
  const buckets: Map<string, number>[] = [];
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const b = (buckets[Math.floor(t / 1e6 / bucketSeconds)] ??= new Map());
    const { functionName, url } = byId.get(profile.samples[i]!)!.callFrame;
    const mod = moduleOf(url, functionName);
    b.set(mod, (b.get(mod) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  buckets.forEach((b, i) => {
    if (!b) return;
    const busy = [...b.entries()].filter(([m]) => m !== '(idle)' && m !== '(program)');
    const busyUs = busy.reduce((n, [, us]) => n + us, 0);
    const topModules = busy
      .sort((x, y) => y[1] - x[1])
      .slice(0, 4)
      .map(([m, us]) => `${m} ${Math.round((us / (bucketSeconds * 1e6)) * 100)}%`);
    process.stdout.write(
      `${JSON.stringify({ atSecond: i * bucketSeconds, busyPct: Math.round((busyUs / (bucketSeconds * 1e6)) * 100), top: topModules })}\n`,
    );
  });
}
