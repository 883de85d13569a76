import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The one argument parser of every command-line entry (vsc, mini-connector, gateway, cloud worker):
 * node's own `parseArgs`, plus the two answers every entry owes a user before it starts anything:
 * `--help` (its usage, exit 0) and `--version` (exit 0). A bad option gets its usage and exit 2.
 */

type Options = NonNullable<ParseArgsConfig['options']>;

export interface CommandSpec<O extends Options> {
  /** The whole help text, printed for --help and after a usage error. */
  usage: string;
  /** e.g. 'mini-connector 0.1.0', printed for --version. */
  version: string;
  options?: O;
  /** How many positional arguments the command takes (default: none). */
  positionals?: { min?: number; max?: number };
}

export interface CommandOutput {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: true }>>['values'];
/** The values parseCommand gives for an options table. */
export type ParsedValues<O extends Options> = Values<O>;

export type ParsedCommand<O extends Options> =
  | { ok: true; values: Values<O>; positionals: string[] }
  /** Already answered (help, version) or refused (usage error): exit with this code. */
  | { ok: false; exitCode: number };

const HELP_FLAGS = new Set(['--help', '-h']);
const VERSION_FLAGS = new Set(['--version', '-V']);

/** Parses `args` against `spec`; --help and --version win over everything else on the line. */
export function parseCommand<O extends Options>(
  args: readonly string[],
  spec: CommandSpec<O>,
  io: CommandOutput,
): ParsedCommand<O> {
  const early = answerHelpOrVersion(args, spec, io);
  if (early !== undefined) return { ok: false, exitCode: early };
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: (spec.options ?? {}) as O, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr.write(`${(err as Error).message}\n\n${spec.usage}`);
    return { ok: false, exitCode: 2 };
  }
  const { min = 0, max = 0 } = spec.positionals ?? {};
  const count = parsed.positionals.length;
  if (count < min || count > max) {
    const problem = count < min ? 'missing argument' : `unexpected argument: ${parsed.positionals[max] ?? ''}`;
    io.stderr.write(`${problem}\n\n${spec.usage}`);
    return { ok: false, exitCode: 2 };
  }
  return { ok: true, values: parsed.values as Values<O>, positionals: parsed.positionals };
}

/**
 * For commands that hand their arguments on untouched (`vsc test` to jest): only --help and
 * --version before a `--` are ours. Returns the exit code when it answered, undefined otherwise.
 */
export function answerHelpOrVersion(
  args: readonly string[],
  spec: Pick<CommandSpec<Options>, 'usage' | 'version'>,
  io: CommandOutput,
): number | undefined {
  const end = args.indexOf('--');
  const ours = end < 0 ? args : args.slice(0, end);
  if (ours.some((a) => HELP_FLAGS.has(a))) {
    io.stdout.write(spec.usage);
    return 0;
  }
  if (ours.some((a) => VERSION_FLAGS.has(a))) {
    io.stdout.write(`${spec.version}\n`);
    return 0;
  }
  return undefined;
}

export interface SubCommand<Io> {
  /** Words that select it, e.g. ['sql', 'check']. */
  words: string[];
  summary: string;
  run(args: string[], io: Io): Promise<number>;
}

/** The program's usage: its name and one line per sub-command. */
export function subCommandUsage(program: string, commands: readonly SubCommand<unknown>[]): string {
  const width = Math.max(...commands.map((c) => c.words.join(' ').length));
  const lines = commands.map((c) => `  ${c.words.join(' ').padEnd(width)}  ${c.summary}`);
  return `usage: ${program} <command> [options]\n\n${lines.join('\n')}\n\n  --help, -h     this text (after a command: that command's)\n  --version, -V  the version\n`;
}

/**
 * Picks the sub-command whose words start argv (longest match first) and runs it with the rest.
 * A bare --help/--version answers for the program; no command is a usage error (exit 2).
 */
export async function runSubCommand<Io extends CommandOutput>(
  argv: readonly string[],
  program: { name: string; version: string; commands: readonly SubCommand<Io>[] },
  io: Io,
): Promise<number> {
  const usage = subCommandUsage(program.name, program.commands);
  const first = argv[0];
  if (first === undefined) {
    io.stderr.write(usage);
    return 2;
  }
  if (first === 'help' || HELP_FLAGS.has(first) || VERSION_FLAGS.has(first)) {
    return answerHelpOrVersion(first === 'help' ? ['--help'] : [first], { usage, version: program.version }, io) ?? 0;
  }
  const command = [...program.commands]
    .sort((a, b) => b.words.length - a.words.length)
    .find((c) => c.words.every((w, i) => argv[i] === w));
  if (!command) {
    io.stderr.write(`unknown command: ${argv.join(' ')}\n\n${usage}`);
    return 2;
  }
  return command.run(argv.slice(command.words.length), io);
}

/**
 * A start-up step that reads or applies the operator's settings: on a bad setting the process says
 * why on stderr and exits 2 (the usage-error code), before it has started anything. For the mains.
 */
export async function settingOrExit<T>(step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
}
