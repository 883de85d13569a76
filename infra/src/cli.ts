import {
  answerHelpOrVersion,
  parseCommand,
  runSubCommand,
  type CommandOutput,
  type SubCommand,
} from '@vansales/protocol';
import help from '../cli-help.json';
import packageJson from '../package.json';
import { InfraError } from './errors';
import { up } from './commands/up';
import { test, services, bench } from './commands/test';
import { admin, defaultAdminTarget } from './commands/admin';
import { platformsOf, release } from './commands/release';
import { topology } from './commands/topology';

const VERSION = `vsc ${packageJson.version}`;
const io: CommandOutput = process;

function usageOf(words: string): string {
  const entry = help.commands.find((c) => c.words === words);
  if (!entry) throw new Error(`cli-help.json has no entry for ${words}`);
  return entry.usage;
}

/** A command that hands its arguments on (to jest, a benchmark, the admin router): only --help/--version are ours. */
function passing(words: string, run: (args: string[]) => Promise<number>): SubCommand<CommandOutput> {
  const summary = help.commands.find((c) => c.words === words)?.summary ?? '';
  return {
    words: [words],
    summary,
    run: async (args) => answerHelpOrVersion(args, { usage: usageOf(words), version: VERSION }, io) ?? run(args),
  };
}

const COMMANDS: SubCommand<CommandOutput>[] = [
  {
    words: ['up'],
    summary: help.commands[0]!.summary,
    async run(args) {
      const parsed = parseCommand(args, { usage: usageOf('up'), version: VERSION }, io);
      return parsed.ok ? up() : parsed.exitCode;
    },
  },
  passing('test', (args) => test(args)),
  {
    words: ['services'],
    summary: help.commands[2]!.summary,
    async run(args) {
      const parsed = parseCommand(args, { usage: usageOf('services'), version: VERSION, positionals: { max: 1 } }, io);
      if (!parsed.ok) return parsed.exitCode;
      const profile = parsed.positionals[0] ?? 'test';
      if (profile !== 'test' && profile !== 'dev') {
        process.stderr.write(`unknown profile ${profile}: test or dev\n\n${usageOf('services')}`);
        return 2;
      }
      return services(profile);
    },
  },
  {
    words: ['topology'],
    summary: help.commands.find((c) => c.words === 'topology')!.summary,
    async run(args) {
      const parsed = parseCommand(args, { usage: usageOf('topology'), version: VERSION }, io);
      return parsed.ok ? topology() : parsed.exitCode;
    },
  },
  ...['tenant', 'connector', 'key', 'audit'].map((noun) =>
    passing(noun, (args) =>
      admin(
        [noun, ...args],
        defaultAdminTarget(),
        (s) => process.stdout.write(s),
        (s) => process.stderr.write(s),
      ),
    ),
  ),
  passing('bench', (args) => bench(args[0], args.slice(1))),
  {
    words: ['release'],
    summary: help.commands.find((c) => c.words === 'release')!.summary,
    async run(args) {
      const parsed = parseCommand(
        args,
        {
          usage: usageOf('release'),
          version: VERSION,
          options: { out: { type: 'string' }, 'version-override': { type: 'string' }, platform: { type: 'string' } },
          positionals: { min: 1, max: 1 },
        },
        io,
      );
      if (!parsed.ok) return parsed.exitCode;
      const platforms = platformsOf(parsed.values.platform as string | undefined);
      if (typeof platforms === 'string') {
        process.stderr.write(`./vsc release: ${platforms}\n`);
        return 2;
      }
      const version = parsed.values['version-override'] as string | undefined;
      return release(parsed.positionals[0]!, parsed.values.out as string | undefined, {
        ...(version ? { version } : {}),
        ...(platforms ? { platforms } : {}),
      });
    },
  },
];

void runSubCommand(process.argv.slice(2), { name: './vsc', version: VERSION, commands: COMMANDS }, io).then(
  (code) => process.exit(code),
  (err) => {
    // Known failures get their message only; anything else its stack, since it is a bug of ours.
    process.stderr.write(
      err instanceof InfraError
        ? `vsc: ${err.message}\n`
        : `vsc: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
