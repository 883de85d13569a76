import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@vansales/bench/support';
import { ensurePrometheus } from '@vansales/infra';
import { stopChild, until } from './harness';

/** One process Prometheus scrapes: `host:port` of its /metrics, and the bearer token it wants, if any. */
export interface ScrapeTarget {
  job: string;
  address: string;
  /** Sent as `Authorization: Bearer`, read by Prometheus from a 0600 file (never in its config or URL). */
  bearerToken?: string;
}

export interface ScrapedTarget {
  job: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

/** One series of an instant query: its labels and its value. */
export interface QueryResult {
  metric: Record<string, string>;
  value: number;
}

export interface PrometheusServer {
  url: string;
  targets(): Promise<ScrapedTarget[]>;
  /** An instant query (`/api/v1/query`): each series with its value. */
  query(promql: string): Promise<QueryResult[]>;
  close(): Promise<void>;
}

/**
 * Debian's Prometheus server (infra ensurePrometheus), started on a free port with its storage in
 * `dir`, scraping the given targets every second.
 */
export async function startPrometheus(dir: string, targets: ScrapeTarget[]): Promise<PrometheusServer> {
  const binary = ensurePrometheus((line) => process.stderr.write(`${line}\n`));
  const port = await freePort();
  mkdirSync(join(dir, 'data'), { recursive: true });
  const scrapeConfigs = targets.map((t) => {
    let authorization;
    if (t.bearerToken) {
      const credentialsFile = join(dir, `${t.job}.token`);
      writeFileSync(credentialsFile, t.bearerToken, { mode: 0o600 });
      authorization = { type: 'Bearer', credentials_file: credentialsFile };
    }
    return { job_name: t.job, static_configs: [{ targets: [t.address] }], ...(authorization ? { authorization } : {}) };
  });
  // JSON is YAML: the configuration is written without a YAML library.
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    JSON.stringify({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      scrape_configs: scrapeConfigs,
    }),
  );
  const child = spawn(
    binary,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  child.stdout.on('data', (d) => output.push(String(d)));
  child.stderr.on('data', (d) => output.push(String(d)));
  const url = `http://127.0.0.1:${port}`;
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  };
  await until(
    'Prometheus to be ready',
    async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${output.join('').slice(-3000)}`);
      return fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
    },
    60_000,
  );
  return {
    url,
    async targets() {
      const data = await api<{
        activeTargets: { labels: { job: string }; health: ScrapedTarget['health']; lastError: string }[];
      }>('/api/v1/targets?state=active');
      return data.activeTargets.map((t) => ({ job: t.labels.job, health: t.health, lastError: t.lastError }));
    },
    async query(promql) {
      const data = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
        `/api/v1/query?query=${encodeURIComponent(promql)}`,
      );
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    close: () => stopChild(child),
  };
}
