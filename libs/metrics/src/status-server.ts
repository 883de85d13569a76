import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** One dependency's state as `/readyz` reports it (the gateway's shape). */
export interface DependencyState {
  ok: boolean;
  message: string;
}
export type ReadinessProbe = () => Promise<Record<string, DependencyState>>;

export interface StatusServerOptions {
  /** 127.0.0.1 unless the operator opens it on purpose: the numbers say what a site does. */
  host: string;
  /** 0 picks a free port (tests); the bound one is returned. */
  port: number;
  registry: Registry;
  readiness: ReadinessProbe;
  /**
   * More exposition text appended to `/metrics` (the Temporal SDK's own exporter, forwarded so one
   * scrape gets both). A failure drops only that part, with a comment saying why.
   */
  extraMetrics?: () => Promise<string>;
}

export interface StatusServer {
  port: number;
  close(): Promise<void>;
}

/** Each probe gives up after this long: an answer that hangs is no answer for a supervisor. */
const PROBE_TIMEOUT_MS = 2000;

/** Runs the probes, bounded in time; a probe that throws is a not-ready answer, never a crash. */
export async function readinessAnswer(readiness: ReadinessProbe): Promise<{
  ready: boolean;
  dependencies: Record<string, DependencyState>;
}> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const dependencies = await Promise.race([
      readiness(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
      }),
    ]);
    return { ready: Object.values(dependencies).every((d) => d.ok), dependencies };
  } catch (err) {
    return { ready: false, dependencies: { probe: { ok: false, message: (err as Error).message } } };
  } finally {
    clearTimeout(timer);
  }
}

/** The metrics text of a registry plus the extra part, as one exposition. */
export async function metricsText(registry: Registry, extra?: () => Promise<string>): Promise<string> {
  const own = await registry.metrics();
  if (!extra) return own;
  try {
    return `${own}\n${await extra()}`;
  } catch (err) {
    return `${own}\n# forwarded metrics unavailable: ${(err as Error).message.replace(/\n/g, ' ')}\n`;
  }
}

/**
 * `GET /metrics` (Prometheus text), `/livez` (the process answers) and `/readyz` (200 when every
 * dependency is ok, else 503, JSON like the gateway's) on a small HTTP server of its own, for the
 * processes that have no HTTP server (the agent, the cloud worker). Only GET; nothing else is served.
 */
export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'only GET\n');
    if (path === '/metrics')
      return send(res, 200, options.registry.contentType, await metricsText(options.registry, options.extraMetrics));
    if (path === '/livez') return send(res, 200, 'application/json', '{"status":"ok"}');
    if (path === '/readyz') {
      const answer = await readinessAnswer(options.readiness);
      return send(res, answer.ready ? 200 : 503, 'application/json', JSON.stringify(answer));
    }
    send(res, 404, 'text/plain', 'not found: /metrics, /livez, /readyz\n');
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, 'text/plain', `${(err as Error).message}\n`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Settings for the Temporal SDK's own Prometheus exporter (Runtime.install's telemetryOptions), on
 * loopback only, in Prometheus' naming (`temporal_…_total`, `_seconds`): the process's /metrics
 * forwards it (`forwardMetrics`), so a scraper needs one target per process.
 */
export function temporalPrometheusTelemetry(port: number) {
  return {
    metrics: {
      prometheus: {
        bindAddress: `127.0.0.1:${port}`,
        countersTotalSuffix: true,
        unitSuffix: true,
        useSecondsForDurations: true,
      },
    },
  };
}

/** Reads another exporter's text (the Temporal SDK's), bounded in time. */
export function forwardMetrics(url: string): () => Promise<string> {
  return async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
    return res.text();
  };
}
