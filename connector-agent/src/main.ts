import { COMMANDS } from './cli/commands';
import type { CliIo } from './cli/command';

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.words.join(' ').length));
  return `usage: mini-connector <command> [options]\n\n${COMMANDS.map((c) => `  ${c.words.join(' ').padEnd(width)}  ${c.summary}`).join('\n')}\n`;
}

/** Picks the command whose words match the start of argv (longest first). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
    io.stdout.write(usage());
    return argv.length === 0 ? 2 : 0;
  }
  const command = [...COMMANDS]
    .sort((a, b) => b.words.length - a.words.length)
    .find((c) => c.words.every((w, i) => argv[i] === w));
  if (!command) {
    io.stderr.write(`unknown command: ${argv.join(' ')}\n${usage()}`);
    return 2;
  }
  return command.run(argv.slice(command.words.length), io);
}

if (require.main === module) {
  void runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`mini-connector failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
