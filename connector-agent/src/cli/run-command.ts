import { loadAgentConfig, AgentConfigError } from '../config';
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
    const { agent, close } = createAgent(config);
    const stop = () => void close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    agent.start();
    const reason = await agent.done;
    await close();
    return reason.code === 'stopped' ? 0 : 3;
  },
};
