import { runSubCommand } from '@vansales/protocol';
import { COMMANDS } from './cli/commands';
import { VERSION_LINE, type CliIo } from './cli/command';

/** Picks the command whose words match the start of argv (longest first). */
export function runCli(argv: string[], io: CliIo): Promise<number> {
  return runSubCommand(argv, { name: 'mini-connector', version: VERSION_LINE, commands: COMMANDS }, io);
}

/** Runs the command of process.argv and exits with its code (this file as a script, or the single executable). */
export function startCli(): void {
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

if (require.main === module) startCli();
