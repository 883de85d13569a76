import { dirname, join } from 'node:path';
import { openAuditLog } from '../audit/audit-log';
import { createAgent } from '../create-agent';
import { configFromArgs, type CliCommand } from './command';

export const runCommand: CliCommand = {
  words: ['run'],
  summary: 'connect to the gateway and serve tasks until stopped',
  async run(args, io) {
    const loaded = configFromArgs(args, io);
    if (!loaded) return 2;
    const { path, config } = loaded;
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
