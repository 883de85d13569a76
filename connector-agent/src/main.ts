import { loadAgentConfig, AgentConfigError } from './config';
import { createAgent } from './create-agent';

const USAGE = `usage: mini-connector run --config <path>

Commands:
  run      connect to the gateway and serve tasks until stopped (default)
`;

function argValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(argv: string[]): Promise<number> {
  const [command = 'run', ...rest] = argv;
  if (command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command !== 'run') {
    process.stderr.write(`unknown command ${command}\n${USAGE}`);
    return 2;
  }
  const path = argValue(rest, '--config') ?? process.env.VSC_AGENT_CONFIG;
  if (!path) {
    process.stderr.write(`no configuration: pass --config <path> or set VSC_AGENT_CONFIG\n`);
    return 2;
  }
  let config;
  try {
    config = loadAgentConfig(path);
  } catch (err) {
    if (err instanceof AgentConfigError) {
      process.stderr.write(`${err.message}\n`);
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
}

void main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`mini-connector failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
