import { readFileSync } from 'node:fs';
import pino from 'pino';
import type { AgentConfig } from './config';
import { Agent, AGENT_VERSION } from './agent';
import type { AuditLog } from './audit/audit-log';
import { openSqlRunner, type SqlRunner } from './databases/sql-runner';
import { createSqlQuery } from './operations/sql-query';
import { createSchemaDiscover } from './operations/schema-discover';
import { createDataExtract } from './operations/data-extract';
import { createDataLoad } from './operations/data-load';
import { createDataTransfer } from './operations/data-transfer';
import { createBufferClient } from './buffer/buffer-client';
import { loadSitePolicy } from './policy/site-policy';
import { policyOf, type DataDeps } from './operations/data-support';

export const AGENT_REDACT_PATHS = ['password', '*.password', 'apiKey', '*.apiKey', 'authorization', '*.authorization', 'headers.authorization'];

/** Wires an agent from its config: database runners opened lazily, operations, logger. */
export function createAgent(config: AgentConfig, log?: pino.Logger, options: { audit?: AuditLog } = {}): { agent: Agent; close: () => Promise<void> } {
  const logger = log ?? pino({ name: 'mini-connector', level: config.logLevel, redact: { paths: AGENT_REDACT_PATHS, censor: '[redacted]' } });
  const runners = new Map<string, Promise<SqlRunner>>();
  const runnerFor = async (name: string): Promise<SqlRunner | undefined> => {
    const db = config.databases[name];
    if (!db) return undefined;
    let runner = runners.get(name);
    if (!runner) {
      runner = openSqlRunner(db);
      runners.set(name, runner);
    }
    return runner;
  };
  const data: DataDeps = { database: (name) => config.databases[name], policy: () => loadSitePolicy(config.policyFile) };
  const buffer = createBufferClient({ gatewayUrl: config.gatewayUrl, ca: config.tlsCaFile ? readFileSync(config.tlsCaFile) : undefined });
  const agent = new Agent({
    config,
    log: logger,
    audit: options.audit,
    operations: {
      'sql.query': createSqlQuery(runnerFor, () => policyOf(data)),
      'schema.discover': createSchemaDiscover((name) => config.databases[name]),
      'agent.ping': async () => ({ from: AGENT_VERSION }),
      'data.extract': createDataExtract(data, buffer),
      'data.load': createDataLoad(data, buffer),
      'data.transfer': createDataTransfer(data),
    },
  });
  return {
    agent,
    close: async () => {
      await agent.stop();
      await Promise.all([...runners.values()].map(async (r) => (await r).close().catch(() => undefined)));
      await options.audit?.close();
    },
  };
}
