import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openAuditLog } from '../audit/audit-log';
import { ensureIdentityKey } from '../gateway-auth';
import { openVault, VAULT_FILE, VaultError } from '../vault';
import { createAgent } from '../create-agent';
import { AGENT_VERSION } from '../agent';
import { createAgentMetrics, startAgentStatusServer } from '../agent-metrics';
import { API_ARTIFACT_CACHE_DIR } from '../api-artifacts';
import { limitHeapGrowth, parseCommand } from '@vansales/protocol';
import { CONFIG_OPTION, VERSION_LINE, configFromArgs, type CliCommand } from './command';

const USAGE = `usage: mini-connector run --config <agent.json>

  Connects to the gateway and serves tasks until stopped (SIGINT/SIGTERM). VSC_AGENT_CONFIG may name
  the file instead of --config. Exit 0 when stopped, 2 on a bad configuration, 3 when the gateway
  refused the agent for good (revoked key, another live session).
`;

export const runCommand: CliCommand = {
  words: ['run'],
  summary: 'connect to the gateway and serve tasks until stopped',
  async run(args, io) {
    const parsed = parseCommand(args, { usage: USAGE, version: VERSION_LINE, options: CONFIG_OPTION }, io);
    if (!parsed.ok) return parsed.exitCode;
    try {
      // Row batches are garbage at a high rate: the heap stays near its live data (bench/README.md).
      limitHeapGrowth(io.env);
    } catch (err) {
      io.stderr.write(`${(err as Error).message}\n`);
      return 2;
    }
    // An agent set up before key pairs existed gets one now; it enrols on its next connection, if
    // the gateway still lets its key enrol (the key is not bound to another key pair).
    const configPath = parsed.values.config ?? io.env.VSC_AGENT_CONFIG;
    if (configPath && existsSync(configPath)) {
      try {
        if (ensureIdentityKey(openVault({ dir: dirname(configPath) })).created)
          io.stdout.write(`made this agent's key pair (kept in the vault beside ${configPath})\n`);
      } catch (err) {
        if (!(err instanceof VaultError)) throw err;
        io.stderr.write(`cannot keep this agent's key pair in its vault: ${err.message}\n`);
        return 2;
      }
    }
    const loaded = configFromArgs(parsed.values.config, io);
    if (!loaded) return 2;
    const { path, config } = loaded;
    // No audit, no service: an agent that cannot record what it does refuses to start.
    const auditPath = config.auditLogPath ?? join(dirname(path), 'audit.jsonl');
    let audit;
    try {
      audit = await openAuditLog({ path: auditPath, signWith: config.identityKey });
    } catch (err) {
      io.stderr.write(`cannot open the audit log ${auditPath}: ${(err as Error).message}\n`);
      return 2;
    }
    // Opened per lookup, so a secret stored after start applies to the next task (API credentials).
    const vaultDir = dirname(path);
    const secrets = (name: string) =>
      existsSync(join(vaultDir, VAULT_FILE)) ? openVault({ dir: vaultDir }).get(name) : undefined;
    const artifactCacheDir = join(dirname(path), API_ARTIFACT_CACHE_DIR);
    const metrics = config.metrics.enabled ? createAgentMetrics(AGENT_VERSION) : undefined;
    const { agent, close } = createAgent(config, undefined, {
      audit,
      secrets,
      artifactCacheDir,
      metrics,
      stateDir: dirname(path),
      ...(io.env.VSC_AGENT_LOG_DIR ? { logDir: io.env.VSC_AGENT_LOG_DIR } : {}),
    });
    let status;
    if (metrics) {
      try {
        status = await startAgentStatusServer(config.metrics, metrics, auditPath);
      } catch (err) {
        await close();
        io.stderr.write(
          `cannot serve metrics on ${config.metrics.host}:${config.metrics.port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; set metrics.port in ${path} to a free port\n`,
        );
        return 2;
      }
      io.stdout.write(`metrics and readiness on http://${config.metrics.host}:${status.port}/metrics, /readyz\n`);
    }
    const stop = () => void close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    agent.start();
    const reason = await agent.done;
    await close();
    await status?.close();
    return reason.code === 'stopped' ? 0 : 3;
  },
};
