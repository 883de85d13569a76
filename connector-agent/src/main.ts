import { runSubCommand } from '@vansales/protocol';
import { AGENT_VERSION } from './agent';
import { COMMANDS } from './cli/commands';
import type { CliIo } from './cli/command';

/** Picks the command whose words match the start of argv (longest first). */
export function runCli(argv: string[], io: CliIo): Promise<number> {
  return runSubCommand(
    argv,
    { name: 'mini-connector', version: `mini-connector ${AGENT_VERSION}`, commands: COMMANDS },
    io,
  );
}

if (require.main === module) {
  void runCli(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  }).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`mini-connector failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
