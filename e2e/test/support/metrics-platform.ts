import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatformProcesses, type ProcessPlatform } from '@vansales/bench/platform-processes';
import { freePort } from '@vansales/bench/support';
import { sakilaDatabase, sakilaReader } from './harness';

/** The metrics ports of the processes: the agent's local one, the cloud worker's, and the Temporal SDK's. */
export interface MetricsPorts {
  agent: number;
  cloudWorker: number;
  cloudTemporal: number;
  gatewayTemporal: number;
}

/**
 * The gateway, the cloud worker and the agent as built processes (dist/main.js) with every /metrics
 * endpoint on: the agent's local port (off by default) and the cloud worker's, on free ports; the
 * agent reaches Sakila with its read-only login.
 */
export async function startMetricsPlatform(label: string): Promise<{ platform: ProcessPlatform; ports: MetricsPorts }> {
  const ports: MetricsPorts = {
    agent: await freePort(),
    cloudWorker: await freePort(),
    cloudTemporal: await freePort(),
    gatewayTemporal: await freePort(),
  };
  const platform = await startPlatformProcesses(mkdtempSync(join(tmpdir(), `vsc-${label}-`)), {
    label: `vsc_${label}`,
    agentDatabases: { sakila: sakilaDatabase(await sakilaReader()) },
    writable: [],
    cloudDatabases: {},
    processEnv: {
      gateway: { VSC_TEMPORAL_METRICS_PORT: String(ports.gatewayTemporal) },
      'cloud-worker': {
        VSC_CLOUD_WORKER_METRICS_PORT: String(ports.cloudWorker),
        VSC_TEMPORAL_METRICS_PORT: String(ports.cloudTemporal),
      },
    },
    agentConfig: { metrics: { enabled: true, port: ports.agent } },
    log: (msg) => process.stderr.write(`${msg}\n`),
  });
  return { platform, ports };
}

/** A query through the gateway's REST API, waited for, as an operator runs it. */
export async function restQuery(platform: ProcessPlatform, sql: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${platform.gatewayUrl}/v1/tenants/${platform.tenantId}/queries`, {
    method: 'POST',
    headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ connectorId: platform.connectorId, database: 'sakila', sql, wait: true }),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}
