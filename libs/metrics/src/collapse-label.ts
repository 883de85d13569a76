/**
 * Rewrites one label's values in a Prometheus text exposition and sums the samples that then share
 * their labels. The gateway runs one Temporal Worker per connected agent, and the SDK labels its
 * metrics with the task queue, `connector.<id>`: one set of series per connector ever seen, and a
 * connector's id in a label. Collapsed to `connector.*`, the series stay as many as there are kinds
 * of queue. Counters, histogram buckets, sums and counts add up; so do the gauges the SDK exports
 * (pollers, slots). Comment lines (HELP, TYPE) are kept once, in their place.
 */
export function collapseLabel(text: string, label: string, rewrite: (value: string) => string): string {
  const order: string[] = [];
  const sums = new Map<string, number>();
  const labelRe = new RegExp(`(^|,)${label}="((?:[^"\\\\]|\\\\.)*)"`);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (!sums.has(line)) {
        sums.set(line, Number.NaN);
        order.push(line);
      }
      continue;
    }
    const m = /^([^{\s]+)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!m) continue;
    const [, name, labels = '', value] = m as unknown as [string, string, string | undefined, string];
    const rewritten = labels.replace(labelRe, (_all, lead: string, v: string) => `${lead}${label}="${rewrite(v)}"`);
    const key = rewritten ? `${name}{${rewritten}}` : name;
    if (!sums.has(key)) order.push(key);
    sums.set(key, (sums.get(key) ?? 0) + Number(value));
  }
  return `${order.map((key) => (key.startsWith('#') ? key : `${key} ${sums.get(key)}`)).join('\n')}\n`;
}
