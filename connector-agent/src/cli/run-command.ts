import { dirname, join } from 'node:path';
import { loadAgentConfig, AgentConfigError } from '../config';
import { openAuditLog } from '../audit/audit-log';
import { createAgent } from '../create-agent';
import { argValue, type CliCommand } from './command';

export const runCommand: CliCommand = {
  words: ['run'],
  summary: 'connect to the gateway and serve tasks until stopped',
  async run(args, io) {
    const path = argValue(args, '--config') ?? io.env.VSC_AGENT_CONFIG;
    if (!path) {
      io.stderr.write('no configuration: pass --config <path> or set VSC_AGENT_CONFIG\n');
      return 2;
    }
    let config;
    try {
      config = loadAgentConfig(path);
    } catch (err) {
      if (err instanceof AgentConfigError) {
        io.stderr.write(`${err.message}\n`);
        return 2;
      }
      throw err;
    }
    // No audit, no service: an agent that cannot record what it does refuses to start.
    const auditPath = config.auditLogPath ?? join(dirname(path), 'audit.jsonl');
    let audit;
    try {
      audit = await openAuditLog({ path: auditPath });
    } catch (err) {
      io.stderr.write(`cannot open the audit log ${auditPath}: ${(err as Error).message}\n`);
      return 2;
    }
    const { agent, close } = createAgent(config, undefined, { audit });
    const stop = () => void close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    agent.start();
    const reason = await agent.done;
    await close();
    return reason.code === 'stopped' ? 0 : 3;
  },
};
