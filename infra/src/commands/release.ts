import { join } from 'node:path';
import { repoRoot } from '../paths';
import {
  AGENT_PLATFORMS,
  buildAgentRelease,
  type AgentPlatform,
  type AgentReleaseOptions,
} from '../release/agent-release';

/** `--platform a,b` as platforms, or a message naming the known ones. */
export function platformsOf(value: string | undefined): AgentPlatform[] | string | undefined {
  if (value === undefined) return undefined;
  const names = value.split(',');
  const unknown = names.filter((n) => !(AGENT_PLATFORMS as readonly string[]).includes(n));
  return unknown.length
    ? `unknown platform ${unknown.join(', ')}; known: ${AGENT_PLATFORMS.join(', ')}`
    : (names as AgentPlatform[]);
}

const log = (line: string) => process.stdout.write(`[vsc] ${line}\n`);

/** `./vsc release <what>`: only the agent is released as files today. */
export async function release(
  what: string,
  out: string | undefined,
  options: AgentReleaseOptions = {},
): Promise<number> {
  if (what !== 'agent') {
    process.stderr.write(`vsc: nothing to release as "${what}"; \`./vsc release agent\` builds the mini connector\n`);
    return 2;
  }
  const result = await buildAgentRelease(out ?? join(repoRoot, 'connector-agent', 'dist', 'release'), log, options);
  process.stdout.write(
    [
      `mini-connector ${result.version} (${result.commit}) in ${result.dir}:`,
      ...Object.values(result.executables).map((path) => `  ${path}`),
      `  ${result.sums}, signed in ${result.signature} (public key ${result.publicKey})`,
      '',
    ].join('\n'),
  );
  return 0;
}
