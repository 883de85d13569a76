import type { SubCommand } from '@vansales/protocol';
import { versionText } from '../release/build-info';
import { loadAgentConfig, AgentConfigError, type AgentConfig } from '../config';

/** One `mini-connector` sub-command. Streams are injected so tests run commands in-process. */
export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

export type CliCommand = SubCommand<CliIo>;

/** `--version` of every sub-command: version, commit, runtime and platform. */
export const VERSION_LINE = versionText();

/** The --config option every command that reads agent.json takes. */
export const CONFIG_OPTION = { config: { type: 'string' } } as const;

/**
 * The agent configuration named by --config (or VSC_AGENT_CONFIG), or undefined after telling the
 * user what is wrong on stderr.
 */
export function configFromArgs(
  configFlag: string | undefined,
  io: CliIo,
): { path: string; config: AgentConfig } | undefined {
  const path = configFlag ?? io.env.VSC_AGENT_CONFIG;
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
