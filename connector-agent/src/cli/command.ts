import { loadAgentConfig, AgentConfigError, type AgentConfig } from '../config';

/** One `mini-connector` sub-command. Streams are injected so tests run commands in-process. */
export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

export interface CliCommand {
  /** Words that select it, e.g. ['sql', 'check']. */
  words: string[];
  summary: string;
  run(args: string[], io: CliIo): Promise<number>;
}

export function argValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * The agent configuration named by --config (or VSC_AGENT_CONFIG), or undefined after telling the
 * user what is wrong on stderr.
 */
export function configFromArgs(args: string[], io: CliIo): { path: string; config: AgentConfig } | undefined {
  const path = argValue(args, '--config') ?? io.env.VSC_AGENT_CONFIG;
  if (!path) {
    io.stderr.write('no configuration: pass --config <path> or set VSC_AGENT_CONFIG\n');
    return undefined;
  }
  try {
    return { path, config: loadAgentConfig(path) };
  } catch (err) {
    if (err instanceof AgentConfigError) {
      io.stderr.write(`${err.message}\n`);
      return undefined;
    }
    throw err;
  }
}
