import { join } from 'node:path';
import { repoRoot } from '../paths';
import { buildAgentRelease } from '../release/agent-release';

const log = (line: string) => process.stdout.write(`[vsc] ${line}\n`);

/** `./vsc release <what>`: only the agent is released as files today. */
export async function release(what: string, out: string | undefined): Promise<number> {
  if (what !== 'agent') {
    process.stderr.write(`vsc: nothing to release as "${what}"; \`./vsc release agent\` builds the mini connector\n`);
    return 2;
  }
  const result = await buildAgentRelease(out ?? join(repoRoot, 'connector-agent', 'dist', 'release'), log);
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
