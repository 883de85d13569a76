import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openAuditLog } from '../audit/audit-log';
import { ensureIdentityKey } from '../gateway-auth';
import { openVault, VAULT_FILE, VaultError } from '../vault';
import type pino from 'pino';
import { AGENT_VERSION, type Agent } from '../agent';
import type { AgentConfig } from '../config';
import { createAgent, gatewayAuthOf } from '../create-agent';
import { readSitePolicyFile } from '../policy/site-policy';
import { updateReleaseKeys } from '../release/release-keys';
import {
  createUpdater,
  recordTrialWelcome,
  runsAsSingleExecutable,
  settleSwitchAtStart,
  UPDATE_STATE_FILE,
  UPDATE_TRIAL_ENV,
} from '../update';
import { createAgentMetrics, startAgentStatusServer } from '../agent-metrics';
import { API_ARTIFACT_CACHE_DIR } from '../api-artifacts';
import { ProxyConfigError, type GatewayNetwork } from '../net';
import { limitHeapGrowth, parseCommand } from '@vansales/protocol';
import { startTracing } from '@vansales/tracing';
import { CONFIG_OPTION, VERSION_LINE, configFromArgs, type CliCommand } from './command';

const USAGE = `usage: mini-connector run --config <agent.json>

  Connects to the gateway and serves tasks until stopped (SIGINT/SIGTERM). VSC_AGENT_CONFIG may name
  the file instead of --config. Exit 0 when stopped, 2 on a bad configuration, 3 when the gateway
  refused the agent for good (revoked key, another live session).
`;

/**
 * Signed updates for a single executable: a first start after a switch must connect within the
 * site's deadline (or it goes back to the previous executable), and each offer from the gateway goes
 * to the updater.
 */
async function wireUpdates(
  agent: Agent,
  log: pino.Logger,
  opts: { executable: string; args: string[]; statePath: string; config: AgentConfig; network: GatewayNetwork },
): Promise<void> {
  const policy = () => readSitePolicyFile(opts.config.policyFile).file.updates;
  // Without a previous executable to go back to, this version is the only one: it runs on.
  const settle = await settleSwitchAtStart({ ...opts, version: AGENT_VERSION, log }).catch((err: unknown) => {
    log.error(`cannot settle the last update: ${(err as Error).message}`);
    return { pending: false as const };
  });
  if (settle.pending) {
    let deadlineSeconds = 120;
    try {
      deadlineSeconds = policy().connectDeadlineSeconds;
    } catch {
      // a broken policy file: the default deadline
    }
    const timer = setTimeout(
      () =>
        void settle
          .rollBack(`did not connect to the gateway within ${deadlineSeconds} s of its first start`)
          .catch((err: unknown) => log.error(`cannot roll back: ${(err as Error).message}`)),
      deadlineSeconds * 1000,
    );
    agent.onWelcome = () => {
      clearTimeout(timer);
      settle.confirm();
      agent.onWelcome = undefined;
    };
  }
  const updater = createUpdater({
    agent,
    auth: gatewayAuthOf(opts.config, opts.config.identityKey!, opts.network),
    log,
    executable: opts.executable,
    args: opts.args,
    statePath: opts.statePath,
    version: AGENT_VERSION,
    policy,
    trustedKeys: updateReleaseKeys,
  });
  agent.onUpdateOffer = (offer) => void updater.offer(offer);
}

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
    // Traces only when the site sets an OTLP endpoint: the agent exports its own spans and never
    // dials a receiver nobody configured (README "Traces").
    let tracing;
    try {
      tracing = await startTracing({ serviceName: 'vsc-connector-agent', serviceVersion: AGENT_VERSION }, io.env);
    } catch (err) {
      await audit.close();
      io.stderr.write(`${(err as Error).message}\n`);
      return 2;
    }
    if (tracing) io.stdout.write(`traces to ${tracing.endpoint}\n`);
    // Self-update (issue 13 §5) is the single executable's: a build from the sources has none to swap.
    const trial = io.env[UPDATE_TRIAL_ENV] === '1';
    const executable = runsAsSingleExecutable() ? process.execPath : undefined;
    let made;
    try {
      made = createAgent(config, undefined, {
        audit,
        secrets,
        artifactCacheDir,
        metrics,
        stateDir: dirname(path),
        ...(tracing ? { tracer: tracing.tracer } : {}),
        ...(io.env.VSC_AGENT_LOG_DIR ? { logDir: io.env.VSC_AGENT_LOG_DIR } : {}),
        updates: { updatable: executable !== undefined && !trial, trial },
      });
    } catch (err) {
      // A proxy or CA setting that cannot work (an unreadable CA file, a proxy URL that is no URL).
      if (!(err instanceof ProxyConfigError)) throw err;
      await audit.close();
      io.stderr.write(`${err.message}\n`);
      return 2;
    }
    const { agent, log, network, close } = made;
    const statePath = join(dirname(path), UPDATE_STATE_FILE);
    if (trial) {
      agent.onWelcome = () => {
        recordTrialWelcome(statePath, AGENT_VERSION);
        void agent.stop();
      };
    } else if (executable && config.identityKey) {
      await wireUpdates(agent, log, { executable, args: process.argv.slice(2), statePath, config, network });
    }
    let status;
    if (metrics && !trial) {
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
    await tracing?.shutdown();
    return reason.code === 'stopped' ? 0 : 3;
  },
};
